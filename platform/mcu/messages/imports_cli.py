"""`mcu import FILE --tenant T --channel C`: bulk import of an export from the command line.

The summary goes to stdout; each rejected row goes to stderr as `FILE:ROW: reasons` (the form
editors jump to, as `mcu tenants validate` prints problems). Exit 0 when the file was processed,
even with rejected rows; 1 when nothing could be imported (unknown tenant or channel, a file
that cannot be read, or every row rejected).
"""

from __future__ import annotations

import csv
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from mcu.messages.imports import FORMATS, ImportFileError, ImportReport, detect_format, import_file


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def write_rejects(path: Path, report: ImportReport) -> None:
    """Rejected rows with their source values, so the file can be corrected and imported again:
    «Строка» and «Причины» are not mapped to any field and are ignored on re-import."""
    extra = [h for h in report.headers if h not in ("Строка", "Причины")]
    # UTF-8 with BOM and «;»: what Excel in a Russian locale opens without asking.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Строка", "Причины", *extra])
        for issue in report.rejected:
            writer.writerow(
                [issue.row, "; ".join(issue.reasons), *(_plain(issue.values.get(h)) for h in extra)]
            )


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tenant", "slug", required=True, help="Район (slug)")
@click.option(
    "--channel", "channel_id", required=True, help="Id канала района, в который загружаются сообщения"
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Формат файла (по умолчанию — по расширению)",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Записать отклонённые строки с причинами в этот CSV (его можно исправить и загрузить снова)",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Фиксировать в базе каждые N строк (по умолчанию 500, с --queue — 5000)",
)
@click.option(
    "--queue",
    "queued",
    is_flag=True,
    help="Только проверить строки и поставить в очередь приёма: классификацию, направление и сроки "
    "выполнит обработчик (mcu worker). Для больших выгрузок.",
)
@with_appcontext
def import_command(
    file: Path,
    slug: str,
    channel_id: str,
    fmt: str | None,
    report_path: Path | None,
    batch_size: int | None,
    queued: bool,
) -> None:
    """Импорт сообщений из выгрузки (CSV, XLSX, JSON) в канал района.

    Каждая строка принимается так же, как сообщение через API: классифицируется, направляется
    исполнителю и получает срок (с --queue — обработчиком очереди). Повторный импорт того же
    файла не создаёт дублей.
    """
    from mcu.cli import _actor
    from mcu.db import session_scope
    from mcu.tenancy.queries import current_config, enter_tenant

    fmt = fmt or detect_format(file.name)
    if fmt is None:
        _fail(f"Формат файла {file.name} не определён по расширению: укажите --format csv|xlsx|json.")
    if not file.is_file():
        _fail(f"Файл {file} не найден.")
    with session_scope() as session, ExitStack() as stack:
        # Scoped like an API request: the tenant wall (RLS) checks every row the import writes.
        tenant = enter_tenant(session, slug)
        config = current_config(session, tenant) if tenant else None
        if config is None:
            _fail(f"Район «{slug}» не загружен (mcu tenants list).")
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = stack.enter_context(
                    click.progressbar(length=total, label="Импорт", file=sys.stderr, show_pos=True)
                )
            bar.update(done - bar.pos)

        try:
            report = import_file(
                session=session,
                config=config,
                channel_id=channel_id,
                source=file,
                fmt=fmt,
                actor=_actor(),
                rules_dir=Path(current_app.config["RULES_DIR"]),
                progress=progress,
                batch_size=batch_size,
                queued=queued,
            )
        except ImportFileError as exc:
            stack.close()
            _fail(f"{file}: {exc}\nНичего не импортировано.")
    _print(file, slug, report, queued)
    if report_path is not None:
        write_rejects(report_path, report)
        click.echo(f"Отклонённые строки записаны в {report_path}.")
    if report.total and not report.created and not report.existing:
        click.echo("Ни одна строка не импортирована.", err=True)
        sys.exit(1)


def _print(file: Path, slug: str, report: ImportReport, queued: bool = False) -> None:
    word = report.row_word
    for issue in report.rejected:
        click.echo(f"{file}:{issue.row}: {'; '.join(issue.reasons)}", err=True)
    click.echo(
        f"Импорт {file.name} в район {slug}, канал «{report.channel}» (сопоставление {report.mapping})."
    )
    for note in report.notes:
        click.echo(f"Внимание: {note}.")
    click.echo(f"Всего {'записей' if word == 'запись' else 'строк'} с данными: {report.total}")
    if queued:
        click.echo(f"Принято в очередь приёма: {report.created} (обработает mcu worker)")
    else:
        click.echo(f"Создано сообщений: {report.created}")
    click.echo(f"Уже были загружены ранее: {report.existing}")
    click.echo(
        f"Отклонено: {len(report.rejected)}"
        + (" (номера и причины — выше, в потоке ошибок)" if report.rejected else "")
    )
    if report.warnings:
        click.echo(f"Предупреждения: {len(report.warnings)}")
        for issue in report.warnings:
            click.echo(f"  {word} {issue.row}: {'; '.join(issue.reasons)}")
    if report.rejected and not (report.created or report.existing):
        click.echo("Файл прочитан, но все строки отклонены.")
    elif report.rejected:
        click.echo(
            "Файл обработан, но часть строк отклонена: исправьте их и загрузите файл снова — "
            "уже загруженные строки не задвоятся."
        )
    else:
        click.echo("Файл обработан полностью.")
