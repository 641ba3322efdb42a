"""Configuration: one DEFAULTS dict, layered file ← environment ← test override.

Unknown keys are rejected at every layer, so a typo in a deployment fails at start-up instead of
being silently ignored.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULTS: dict[str, Any] = {
    # SQLite file in the instance folder by default: zero set-up. Production: PostgreSQL.
    "DATABASE_URL": None,
    "TENANTS_DIR": str(REPO_ROOT / "tenants"),
    "RULES_DIR": str(REPO_ROOT / "rules"),
    "DECREES_DIR": str(REPO_ROOT.parent / "shared" / "decrees"),
    # The executable specs (the spec book reads them) and where the test run leaves its results.
    "SPECS_DIR": str(REPO_ROOT / "specs"),
    "SPEC_RESULTS_DIR": str(REPO_ROOT / "test-artifacts"),
    "INSTANCE_DIR": str(REPO_ROOT / "instance"),
    "SECRET_KEY": None,
    # Session cookie only over HTTPS. Browsers treat http://localhost and 127.0.0.1 as secure, so
    # `make run` works as is; set MCU_SESSION_COOKIE_SECURE=0 only for plain HTTP on a LAN address.
    "SESSION_COOKIE_SECURE": True,
    "TESTING": False,
    # "standard" (Argon2id as argon2-cffi recommends) or "fast" (the test suite; see passwords.py)
    "PASSWORD_HASHING": "standard",
    "LOG_LEVEL": "INFO",
    # json: one JSON object a line with the request id (for log collectors; gunicorn_conf.py makes
    # it the default of the server); text: for a console and the CLI.
    "LOG_FORMAT": "text",
    # Mail for notifications (the in-app inbox needs none). Empty SMTP_HOST: e-mails wait in
    # the outbox until a server is configured.
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "МЦУ <mcu@localhost>",
    "MAIL_MAX_ATTEMPTS": 8,
    # `mcu worker`: seconds between polls, deadlines per transaction.
    "WORKER_POLL_SECONDS": 5,
    "WORKER_BATCH": 200,
    # A TTF font with Cyrillic for PDF reports (Debian/Ubuntu: fonts-dejavu-core); its bold face
    # is taken from the same folder (<name>-Bold.ttf) when there.
    "REPORT_FONT": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
}

ENV_PREFIX = "MCU_"
# MCU_* variables read by other parts than the app config (gunicorn settings, the test suite);
# MCU_BENCH_* and MCU_FUZZ_* belong to bench/ and the schemathesis test, which build the app
# in-process with them set.
NOT_APP_SETTINGS = {"CONFIG_FILE", "TEST_PG_URL", "TEST_DB", "BIND", "WEB_WORKERS", "WEB_THREADS"}
NOT_APP_PREFIXES = ("BENCH_", "FUZZ_")


class ConfigError(ValueError):
    pass


def _check_keys(layer: dict[str, Any], where: str) -> None:
    unknown = sorted(set(layer) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}")


def _from_env() -> dict[str, Any]:
    layer: dict[str, Any] = {}
    # DATABASE_URL is the conventional name; MCU_DATABASE_URL wins when both are set.
    if os.environ.get("DATABASE_URL"):
        layer["DATABASE_URL"] = os.environ["DATABASE_URL"]
    for name, value in os.environ.items():
        if name.startswith(ENV_PREFIX):
            key = name[len(ENV_PREFIX) :]
            if key in DEFAULTS:
                layer[key] = value
            elif key not in NOT_APP_SETTINGS and not key.startswith(NOT_APP_PREFIXES):
                raise ConfigError(f"environment: unknown setting {name}")
    return layer


def load_config(test_config: dict[str, Any] | None = None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    config_file = os.environ.get("MCU_CONFIG_FILE")
    if config_file:
        with open(config_file, "rb") as fh:
            layer = {k.upper(): v for k, v in tomllib.load(fh).items()}
        _check_keys(layer, config_file)
        config.update(layer)
    if not (test_config or {}).get("TESTING"):
        config.update(_from_env())
    if test_config:
        _check_keys(test_config, "test_config")
        config.update(test_config)
    instance = Path(config["INSTANCE_DIR"])
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'mcu.sqlite3'}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(instance)
    # Environment values arrive as text.
    config["WORKER_POLL_SECONDS"] = float(config["WORKER_POLL_SECONDS"])
    for key in ("SMTP_PORT", "MAIL_MAX_ATTEMPTS", "WORKER_BATCH"):
        config[key] = int(config[key])
    for key in ("SMTP_STARTTLS", "SESSION_COOKIE_SECURE"):
        if isinstance(config[key], str):
            config[key] = config[key].strip().lower() in ("1", "true", "yes", "on")
    if config["PASSWORD_HASHING"] not in ("standard", "fast"):
        raise ValueError(f"PASSWORD_HASHING: «standard» или «fast», а не «{config['PASSWORD_HASHING']}»")
    return config


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, never a default in code."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
