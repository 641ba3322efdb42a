"""Bulk import over HTTP: POST /api/v1/<tenant>/imports?channel=ID.

The file comes as the multipart field `file` or as the raw body (Content-Type text/csv,
application/json or the XLSX type). The answer is the import report; a file that cannot be read
at all is a 422 and nothing is stored; a body over MAX_CONTENT_LENGTH is a 413 from the app.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, g, jsonify, request

from mcu.auth.api import token_required
from mcu.db import get_session
from mcu.messages.blueprint import unprocessable
from mcu.messages.imports import FORMATS, ImportFileError, detect_format, import_file
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("imports_api", __name__, "/api/v1/<tenant>")


@api.post("/imports")
@token_required
def create_import():
    channel_id = request.args.get("channel") or g.api_token.channel_id
    if not channel_id:
        return unprocessable({"channel": ["укажите канал: ?channel=ID (id канала из конфигурации района)"]})
    upload = request.files.get("file")
    if upload is not None:
        raw, filename, content_type = upload.read(), upload.filename, upload.mimetype
    else:
        raw, filename, content_type = request.get_data(), None, request.mimetype
    if not raw:
        return unprocessable(
            {"file": ["файл не передан: поле file формы multipart/form-data или тело запроса"]}
        )
    fmt = request.args.get("format") or detect_format(filename, content_type)
    if fmt not in FORMATS:
        return unprocessable(
            {
                "format": [
                    "формат файла не определён: передайте файл с расширением .csv, .xlsx или .json, "
                    "укажите Content-Type (text/csv, application/json, XLSX) или параметр ?format=csv|xlsx|json"
                ]
            }
        )
    try:
        # The operation commits batch by batch itself: an import is a job, not one unit of work.
        report = import_file(
            session=get_session(),
            config=g.config,
            channel_id=channel_id,
            source=raw,
            fmt=fmt,
            actor=f"token:{g.api_token.name}",
            rules_dir=Path(current_app.config["RULES_DIR"]),
            queued=request.args.get("queue") in ("1", "true", "yes"),
        )
    except ImportFileError as exc:
        return unprocessable({exc.field: [str(exc)]})
    return jsonify(report.as_dict())
