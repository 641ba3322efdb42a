"""The spec book for lawyers: a page of each district and `mcu specs report`."""

from __future__ import annotations

import yaml

from tests.helpers import staff_client
from tests.unit.test_specbook import SPECS


def _title(slug: str) -> str:
    path = next(
        p for p in (SPECS / "clauses").glob("*.yaml") if yaml.safe_load(p.read_text())["tenant"] == slug
    )
    return yaml.safe_load(path.read_text())["title"]


def test_a_legal_reviewer_reads_the_districts_decree_clause_by_clause(loaded_app):
    lawyer = staff_client(loaded_app, grants=(("kondinsky", "legal_reviewer"),))
    response = lawyer.get("/t/kondinsky/specs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _title("kondinsky") in html and "Федеральный закон от 02.05.2006 № 59-ФЗ" in html
    assert _title("nekrasovsky") not in html  # one district's page, one district's decree
    assert "Регламент, п.5.3" in html and "не автоматизирован" in html
    # A clause checked in part says which part is the МЦУ's own work.
    assert "Организация самих мероприятий и координация работ — дело МЦУ" in html
    assert lawyer.get("/t/kondinsky/messages").status_code == 403  # specs and configuration only
    assert lawyer.get("/t/kondinsky/config").status_code == 200


def test_the_report_command_writes_the_whole_book(loaded_app, tmp_path):
    out = tmp_path / "book.html"
    result = loaded_app.test_cli_runner().invoke(args=["specs", "report", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    for slug in ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky"):
        assert _title(slug) in html, slug
    assert "<script" not in html
    lint = loaded_app.test_cli_runner().invoke(args=["specs", "lint"])
    assert lint.exit_code == 0 and "Спецификации в порядке" in lint.output, lint.output
