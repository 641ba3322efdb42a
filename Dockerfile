# syntax=docker/dockerfile:1
# Multi-stage: build wheels (durable-rules compiles C) in a builder, run as non-root.
# Debian packages are pinned to bookworm's versions (hadolint DL3008), like the base image.
FROM python:3.11.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        gcc=4:12.2.0-3 g++=4:12.2.0-3 make=4.3-4.1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform ./platform
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm
# fonts-dejavu-core: the Cyrillic TTF font PDF reports are set in (setting REPORT_FONT).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 mcu && useradd --create-home --uid 10001 --gid 10001 mcu
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY --chown=mcu:mcu tenants ./tenants
COPY --chown=mcu:mcu rules ./rules
# The spec book page reads the specs and their clause catalogues.
COPY --chown=mcu:mcu specs ./specs
COPY platform/mcu/gunicorn_conf.py ./gunicorn_conf.py
ENV MCU_TENANTS_DIR=/app/tenants MCU_RULES_DIR=/app/rules MCU_INSTANCE_DIR=/app/instance \
    MCU_SPECS_DIR=/app/specs MCU_SPEC_RESULTS_DIR=/app/instance/spec-results \
    MCU_BIND=0.0.0.0:8000 PYTHONUNBUFFERED=1
# Numeric, so a host or Kubernetes' runAsNonRoot can check it is not root (hadolint DL3066).
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"]
CMD ["sh", "-c", "mcu db upgrade && mcu tenants load && exec gunicorn --config gunicorn_conf.py mcu.wsgi:app"]
