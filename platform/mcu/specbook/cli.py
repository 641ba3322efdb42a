"""`mcu specs report` (the HTML spec book) and `mcu specs lint`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

specs_cli = AppGroup("specs", help="Исполняемые спецификации постановлений: книга и проверка.")


@specs_cli.command("report")
@click.option("-o", "--output", default="test-artifacts/spec-book.html", show_default=True)
def specs_report(output: str) -> None:
    """Книга спецификаций в HTML: все постановления, пункты, сценарии и их результаты."""
    from datetime import UTC, datetime

    from flask import render_template

    from mcu.specbook.book import STATUS_NAMES, build

    book = build(Path(current_app.config["SPECS_DIR"]), Path(current_app.config["SPEC_RESULTS_DIR"]))
    css = (Path(current_app.static_folder) / "mcu.css").read_text(encoding="utf-8")
    with current_app.test_request_context():
        html = render_template(
            "specbook/standalone.html",
            book=book,
            status_names=STATUS_NAMES,
            css=css,
            generated=datetime.now(UTC).strftime("%d.%m.%Y %H:%M UTC"),
        )
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    for section in book.sections:
        counts = ", ".join(f"{STATUS_NAMES[k]}: {v}" for k, v in sorted(section.counts.items()))
        click.echo(f"{section.act.title[:70]}: пунктов {len(section.rows)} ({counts})")
    click.echo(f"Книга записана в {path}")


@specs_cli.command("lint")
def specs_lint() -> None:
    """Проверить спецификации: парсер Gherkin, теги района и пунктов, каталоги пунктов, шаги."""
    from mcu.specbook.lint import lint

    steps = Path(current_app.config["SPECS_DIR"]).parent / "tests" / "bdd"
    problems = lint(Path(current_app.config["SPECS_DIR"]), steps)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"Найдено замечаний: {len(problems)}.", err=True)
        sys.exit(1)
    click.echo("Спецификации в порядке.")
