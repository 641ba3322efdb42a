"""`mcu import FILE --tenant T --channel C`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("import")
@with_appcontext
def import_command() -> None:
    """Импорт сообщений из выгрузки (CSV, XLSX, JSON)."""
    raise click.ClickException("not built yet")
