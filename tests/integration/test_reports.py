"""Reports: every report each founding district configures is built from demo data and exported
as XLSX, CSV, PDF and JSON; the schedule generates a due report exactly once; no export carries a
citizen's name or phone; quoted posts stay text; the exports open in LibreOffice when it is
installed."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from mcu.db import engine
from mcu.messages.models import Citizen, Event
from mcu.notifications.models import Notification
from mcu.reports import schedule
from mcu.reports.models import Report
from mcu.tenancy.queries import current_config, tenant_by_slug
from tests.helpers import staff_client

FOUNDERS = ["kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky"]
# Two months of demo history at a quarter of the usual volume: every report has something to
# show, and a district seeds in a second or two.
SEED = ["demo", "seed", "--until", "2026-03-31", "--months", "1", "--per-day", "2"]
AS_OF = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
CYRILLIC = re.compile("[А-Яа-яЁё]")


def _token(app, slug: str) -> dict[str, str]:
    plain = app.test_cli_runner().invoke(args=["tokens", "create", "--tenant", slug]).stdout.split()[0]
    return {"Authorization": f"Bearer {plain}"}


def _config(app, slug: str):
    with app.app_context(), Session(engine()) as s:
        return current_config(s, tenant_by_slug(s, slug))


def _demo_period(spec: dict, tz: ZoneInfo) -> str:
    """The period the schedule would build on 1 April 2026 (inside the demo history); a report
    on request asks for March."""
    due = schedule.latest_due(spec, tz, AS_OF)
    return due.period.key if due is not None else "2026-03"


def _xlsx_check(data: bytes, doc: dict) -> None:
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "Титул"
    assert wb["Титул"]["A1"].value == doc["title"]
    assert len(wb.sheetnames) == len(doc["sections"]) + 1
    for ws, section in zip(wb.worksheets[1:], doc["sections"], strict=True):
        assert ws["A1"].value == section["heading"]
        values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
        for table in section["tables"]:
            titles = [c["title"] for c in table["columns"]]
            assert all(t in values for t in titles) and all(CYRILLIC.search(t) for t in titles[1:])
            # numbers are numbers, not text
            numeric = [i for i, c in enumerate(table["columns"]) if c["type"] in ("int", "number", "percent")]
            for row in table["rows"][:3]:
                for i in numeric:
                    if row[i] is not None:
                        assert row[i] in values, (section["heading"], titles[i], row[i])


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _exports(client, headers, report_uuid: str, slug: str) -> dict[str, bytes]:
    out = {}
    for fmt in ("xlsx", "csv", "pdf", "json"):
        response = client.get(f"/api/v1/{slug}/reports/{report_uuid}/export.{fmt}", headers=headers)
        assert response.status_code == 200, (fmt, response.get_data(as_text=True)[:300])
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
        assert unquote(disposition.split("filename*=UTF-8''")[1]).endswith(f".{fmt}")
        out[fmt] = response.data
    return out


@pytest.mark.parametrize("slug", FOUNDERS)
def test_every_configured_report_is_built_and_exported(loaded_app, slug):
    runner, client = loaded_app.test_cli_runner(), staff_client(loaded_app)
    seeded = runner.invoke(args=[*SEED, "--tenant", slug])
    assert seeded.exit_code == 0, seeded.output
    headers = _token(loaded_app, slug)
    config = _config(loaded_app, slug)
    listed = client.get(f"/api/v1/{slug}/reports", headers=headers).get_json()
    assert [r["id"] for r in listed["configured"]] == [r["id"] for r in config.data["reports"]]
    assert listed["generated"] == []

    for spec in config.data["reports"]:
        period = _demo_period(spec, config.tz)
        response = client.post(
            f"/api/v1/{slug}/reports/{spec['id']}/generate?period={period}", headers=headers
        )
        assert response.status_code == 201, response.get_data(as_text=True)[:500]
        body = response.get_json()
        doc = body["content"]
        assert body["period"]["key"] == period and doc["title"] == spec["name"]
        assert dict(doc["subtitle"])["Район"] == config.data["name"]["full"]
        assert doc["sections"] and all(s["heading"] for s in doc["sections"])
        files = _exports(client, headers, body["id"], slug)

        _xlsx_check(files["xlsx"], doc)
        rows = _csv_rows(files["csv"])
        assert rows[0] == [doc["title"]]
        alone = {r[0] for r in rows if len(r) == 1}
        assert all(s["heading"] in alone for s in doc["sections"])
        assert files["pdf"].startswith(b"%PDF-") and files["pdf"].rstrip().endswith(b"%%EOF")
        assert len(files["pdf"]) > 10_000 and b"DejaVu" in files["pdf"]  # the Cyrillic font is embedded
        assert json.loads(files["json"]) == doc

    # A page per report, the list page, and a second generation of the same period replaces it.
    assert client.get(f"/t/{slug}/reports").status_code == 200
    first = config.data["reports"][0]
    again = client.post(
        f"/api/v1/{slug}/reports/{first['id']}/generate?period={_demo_period(first, config.tz)}",
        headers=headers,
    )
    assert again.status_code == 200 and again.get_json()["generations"] == 2
    page = client.get(f"/t/{slug}/reports/{again.get_json()['id']}")
    assert page.status_code == 200 and first["name"] in page.get_data(as_text=True)
    with loaded_app.app_context(), Session(engine()) as s:
        kinds = [
            e.kind for e in s.exec(select(Event).where(Event.subject_kind == "report").order_by(Event.at))
        ]
    assert kinds.count("report_regenerated") == 1 and kinds.count("report_generated") == len(
        config.data["reports"]
    )


def test_weekly_report_explains_unresolved_and_flow_analysis_names_problem_areas(loaded_app):
    runner, client = loaded_app.test_cli_runner(), loaded_app.test_client()
    assert (
        runner.invoke(args=[*SEED, "--tenant", "khanty-mansiysky", "--tenant", "konstantinovsky"]).exit_code
        == 0
    )
    hm = _token(loaded_app, "khanty-mansiysky")
    weekly = client.post(
        "/api/v1/khanty-mansiysky/reports/weekly-cur-friday/generate?period=2026-03-20..2026-03-26",
        headers=hm,
    ).get_json()["content"]
    headings = [s["heading"] for s in weekly["sections"]]
    assert "Нерешённые сообщения и обращения с пояснениями" in headings
    unresolved = weekly["sections"][headings.index("Нерешённые сообщения и обращения с пояснениями")]
    table = unresolved["tables"][0]
    assert [c["title"] for c in table["columns"]][-1] == "Пояснение"
    assert table["rows"] and all(r[-1] for r in table["rows"])
    assert any("срок истёк" in r[-1] for r in table["rows"])
    assert dict(weekly["subtitle"])["Периодичность"] == "еженедельно, в пятницу, до 13:00"
    assert "Регламент п.4.1.8" in dict(weekly["subtitle"])["Основание"]

    konst = _token(loaded_app, "konstantinovsky")
    flow_doc = client.post(
        "/api/v1/konstantinovsky/reports/flow-analysis/generate?period=2026-03", headers=konst
    ).get_json()["content"]
    flow_section = next(s for s in flow_doc["sections"] if s["heading"].startswith("Новые, повторные"))
    assert [c["title"] for c in flow_section["tables"][0]["columns"]][1:5] == [
        "Новые",
        "Повторные",
        "Просроченные",
        "Отложенные",
    ]
    assert flow_section["paragraphs"][0].startswith("Основные проблемные сферы и отрасли: ")
    assert "Регламент п.5.2" in dict(flow_doc["subtitle"])["Основание"]


def _friday_reports(app) -> list[Report]:
    with app.app_context(), Session(engine()) as s:
        return list(
            s.exec(
                select(Report).where(
                    Report.report_id == "weekly-cur-friday",
                    Report.tenant_id == tenant_by_slug(s, "khanty-mansiysky").id,
                )
            )
        )


def test_friday_report_is_generated_once_before_13_and_not_on_thursday(loaded_app):
    tz = ZoneInfo("Asia/Yekaterinburg")
    thursday = datetime(2026, 3, 19, 12, 0, tzinfo=tz)
    friday = datetime(2026, 3, 20, 12, 0, tzinfo=tz)
    week = "2026-03-13..2026-03-19"
    with loaded_app.app_context():
        schedule.run(engine(), now=thursday)
        assert week not in {r.period_key for r in _friday_reports(loaded_app)}

        # Two workers at once, then one more round: one report, one notification.
        workers = [
            threading.Thread(target=schedule.run, args=(engine(),), kwargs={"now": friday}) for _ in range(2)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert schedule.run(engine(), now=friday + timedelta(minutes=1)) == 0
    made = [r for r in _friday_reports(loaded_app) if r.period_key == week]
    assert len(made) == 1 and made[0].generations == 1 and made[0].generated_by == "worker"
    assert made[0].generated_at < datetime(2026, 3, 20, 13, 0, tzinfo=tz)
    with loaded_app.app_context(), Session(engine()) as s:
        notes = list(s.exec(select(Notification).where(Notification.subject_id == made[0].id)))
        config = current_config(s, tenant_by_slug(s, "khanty-mansiysky"))
    holders = [p for p in config.roster.values() if "mcu_head" in p.get("roles", [])]
    assert len(notes) == len(holders) >= 1
    assert notes[0].kind == "report" and "Срок представления: 20.03.2026 до 13:00" in notes[0].body
    assert f"/t/khanty-mansiysky/reports/{made[0].id}" in notes[0].body


def test_worker_loop_runs_the_schedule(loaded_app):
    from mcu.rules.worker import run

    said: list[str] = []
    with loaded_app.app_context():
        # In a thread: the loop installs SIGTERM/SIGINT handlers only in the main thread.
        loop = threading.Thread(
            target=run,
            args=(engine(), loaded_app.config),
            kwargs={"once": True, "say": said.append, "clock": lambda: AS_OF},
        )
        loop.start()
        loop.join()
        with Session(engine()) as s:
            made = list(s.exec(select(Report)))
    assert made and any("сформировано отчётов по графику" in line for line in said)
    assert {r.generated_by for r in made} == {"worker"}


def test_a_partial_report_is_built_again_when_its_period_is_over(loaded_app):
    client = loaded_app.test_client()
    headers = _token(loaded_app, "nekrasovsky")
    tz = ZoneInfo("Europe/Moscow")
    # Someone asks for the current week on Wednesday; the schedule builds it again on Monday.
    with loaded_app.app_context():
        from mcu.analytics.periods import week
        from mcu.reports.operations import generate

        config = _config(loaded_app, "nekrasovsky")
        with Session(engine()) as s:
            generate(
                session=s,
                config=config,
                report_id="weekly-note",
                period=week(2026, 12),
                now=datetime(2026, 3, 18, 15, 0, tzinfo=tz),
                actor="cli:test",
            )
            s.commit()
        schedule.run(engine(), now=datetime(2026, 3, 23, 9, 0, tzinfo=tz))
    listed = client.get("/api/v1/nekrasovsky/reports?report=weekly-note", headers=headers).get_json()
    (row,) = [r for r in listed["generated"] if r["period"]["key"] == "2026-W12"]
    assert row["status"] == "ready" and row["generations"] == 2 and row["generated_by"] == "worker"


def test_no_export_carries_a_citizens_name_or_phone(loaded_app):
    runner, client = loaded_app.test_cli_runner(), loaded_app.test_client()
    # Last year's demo history: demo numbers of this year would collide with live intake's.
    last_year = str(datetime.now(UTC).year - 1)
    seeded = runner.invoke(
        args=[*SEED[:2], "--tenant", "sovetsky", "--until", f"{last_year}-12-31", *SEED[4:]]
    )
    assert seeded.exit_code == 0
    headers = _token(loaded_app, "sovetsky")
    name, phone, email = "Перепёлкина Агриппина Саввична", "+7 912 000-11-22", "agrippina@example.ru"
    citizen = {"full_name": name, "phone": phone, "email": email, "postal_address": "ул. Ленина, 1"}
    post = client.post(
        "/api/v1/sovetsky/messages",
        headers=headers,
        json={
            "channel": "im",
            "block": "roads",
            "text": f"Перепёлкина Агриппина пишет: огромная яма на дороге у дома, звоните {phone} или {email}",
            "citizen": citizen,
        },
    ).get_json()
    assert (
        client.post(
            f"/api/v1/sovetsky/messages/{post['id']}/actions",
            headers=headers,
            json={"action": "answer", "text": f"Уважаемая {name}! Яма заделана."},
        ).status_code
        == 200
    )
    client.post(
        f"/api/v1/sovetsky/messages/{post['id']}/rating", headers=headers, json={"score": 5, "comment": name}
    )
    appeal = client.post(
        "/api/v1/sovetsky/messages",
        headers=headers,
        json={
            "channel": "fz59",
            "block": "roads",
            "text": f"Я, {name}, прошу отремонтировать дорогу",
            "citizen": citizen,
        },
    ).get_json()
    client.post(
        f"/api/v1/sovetsky/messages/{appeal['id']}/actions",
        headers=headers,
        json={
            "action": "extend",
            "days": 20,
            "reason": f"нужен выезд комиссии, заявитель просил звонить {phone}",
        },
    )

    with loaded_app.app_context(), Session(engine()) as s:
        people = list(s.exec(select(Citizen).where(Citizen.tenant_id == tenant_by_slug(s, "sovetsky").id)))
    assert len(people) > 50  # the demo's citizens and ours
    phones = {re.sub(r"\D", "", p.phone) for p in people if p.phone}
    names = {p.full_name for p in people if p.full_name}

    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Yekaterinburg"))
    iso = now.isocalendar()
    # Every report twice: for the current periods (our two messages) and for the demo's December.
    current = {"day": now.date().isoformat(), "week": f"{iso.year}-W{iso.week:02d}", "year": str(now.year)}
    demo = {"day": f"{last_year}-12-15", "week": f"{last_year}-W50", "year": last_year}
    texts = []
    config = _config(loaded_app, "sovetsky")
    for periods, month in ((current, f"{now.year}-{now.month:02d}"), (demo, f"{last_year}-12")):
        for spec in config.data["reports"]:
            period = periods.get((spec.get("schedule") or {}).get("every"), month)
            body = client.post(
                f"/api/v1/sovetsky/reports/{spec['id']}/generate?period={period}", headers=headers
            ).get_json()
            files = _exports(client, headers, body["id"], "sovetsky")
            wb = load_workbook(io.BytesIO(files["xlsx"]))
            cells = "|".join(
                str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value
            )
            # The PDF is drawn from the same document as the JSON (its text is glyph ids, not
            # searchable).
            texts += [cells, files["csv"].decode("utf-8-sig"), files["json"].decode("utf-8")]
    everything = "\n".join(texts)
    assert post["number"] in everything and appeal["number"] in everything  # our messages are in the reports
    assert "заделана" not in everything  # nor the answer's text
    assert "прошу отремонтировать" not in everything  # nor an обращение's text
    assert "огромная яма на дороге у дома" in everything  # the public post is quoted, shortened and scrubbed
    assert "нужен выезд комиссии" in everything  # the extension's reason explains the open appeal
    for person in names:
        assert person not in everything, person
    assert "Перепёлкина" not in everything and "agrippina" not in everything
    # A phone may be written with spaces, dashes or brackets; cells and fields stay apart.
    squeezed = re.sub(r"[\s\-()+]", "", everything)
    for number in phones:
        assert number not in squeezed, number


def test_a_quoted_post_stays_text_in_xlsx_and_csv(loaded_app):
    client = staff_client(loaded_app, grants=(("sovetsky", "mcu_head"),))
    headers = _token(loaded_app, "sovetsky")
    post = client.post(
        "/api/v1/sovetsky/messages",
        headers=headers,
        json={"channel": "im", "block": "roads", "text": '=HYPERLINK("http://evil.example","яма") на дороге'},
    ).get_json()
    client.post(
        f"/api/v1/sovetsky/messages/{post['id']}/actions",
        headers=headers,
        json={"action": "answer", "text": "Отремонтировано"},
    )
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Yekaterinburg"))
    body = client.post(
        f"/api/v1/sovetsky/reports/monthly-media/generate?period={now.year}-{now.month:02d}", headers=headers
    ).get_json()
    files = _exports(client, headers, body["id"], "sovetsky")
    wb = load_workbook(io.BytesIO(files["xlsx"]))
    quoted = [
        c for ws in wb.worksheets for row in ws.iter_rows() for c in row if str(c.value).startswith("=HYPER")
    ]
    assert quoted and all(c.data_type == "s" for c in quoted)
    assert any(r and r[-1].startswith("'=HYPERLINK") for r in _csv_rows(files["csv"]))
    page = client.get(f"/t/sovetsky/reports/{body['id']}").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in page


def test_errors_and_tenant_boundary(loaded_app):
    client = staff_client(loaded_app, grants=(("sovetsky", "mcu_curator"),))  # Советский's staff
    kond, sov = _token(loaded_app, "kondinsky"), _token(loaded_app, "sovetsky")
    made = client.post("/api/v1/kondinsky/reports/rating/generate?period=2026-03", headers=kond).get_json()
    assert client.get(f"/api/v1/kondinsky/reports/{made['id']}", headers=sov).status_code == 401
    assert client.get(f"/api/v1/sovetsky/reports/{made['id']}", headers=sov).status_code == 404
    assert client.get(f"/api/v1/sovetsky/reports/{made['id']}/export.pdf", headers=sov).status_code == 404
    assert client.get(f"/t/sovetsky/reports/{made['id']}").status_code == 404
    assert client.get(f"/t/sovetsky/reports/{made['id']}/export.xlsx").status_code == 404
    assert (
        client.post("/api/v1/sovetsky/reports/rating/generate", headers=sov).status_code == 404
    )  # not Советский's
    bad = client.post("/api/v1/kondinsky/reports/rating/generate?period=2026-13", headers=kond)
    assert bad.status_code == 422 and "period" in bad.get_json()["fields"]
    assert client.get(f"/api/v1/kondinsky/reports/{made['id']}/export.docx", headers=kond).status_code == 404


def test_missing_pdf_font_is_a_clear_error(make_app, tmp_path):
    app = make_app(REPORT_FONT=str(tmp_path / "none.ttf"))
    assert app.test_cli_runner().invoke(args=["tenants", "load"]).exit_code == 0
    client = app.test_client()
    headers = _token(app, "kondinsky")
    made = client.post("/api/v1/kondinsky/reports/rating/generate?period=2026-03", headers=headers).get_json()
    response = client.get(f"/api/v1/kondinsky/reports/{made['id']}/export.pdf", headers=headers)
    assert response.status_code == 503 and "fonts-dejavu-core" in response.get_json()["detail"]
    assert (
        client.get(f"/api/v1/kondinsky/reports/{made['id']}/export.xlsx", headers=headers).status_code == 200
    )


def test_page_generates_with_the_form_only(loaded_app):
    client = staff_client(loaded_app, grants=(("kondinsky", "mcu_coordinator"),))
    page = client.get("/t/kondinsky/reports").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    forged = client.post("/t/kondinsky/reports/rating/generate", data={"period": "2026-03"})
    assert forged.status_code == 400
    bad = client.post("/t/kondinsky/reports/rating/generate", data={"period": "март", "csrf_token": token})
    assert bad.status_code == 422 and "не распознан" in bad.get_data(as_text=True)
    ok = client.post("/t/kondinsky/reports/rating/generate", data={"period": "2026-03", "csrf_token": token})
    assert ok.status_code == 303
    report = client.get(ok.headers["Location"])
    assert report.status_code == 200 and "Рейтинг" in report.get_data(as_text=True)
    xlsx = client.get(ok.headers["Location"] + "/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")


def test_cli_generates_and_lists(loaded_app, tmp_path):
    runner = loaded_app.test_cli_runner()
    out = tmp_path / "рейтинг.csv"
    result = runner.invoke(
        args=[
            "reports",
            "generate",
            "--tenant",
            "kondinsky",
            "--report",
            "rating",
            "--period",
            "2026-03",
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "сформирован" in result.output and out.read_bytes().startswith(b"\xef\xbb\xbf")
    listed = runner.invoke(args=["reports", "list", "--tenant", "kondinsky"])
    assert listed.exit_code == 0 and "rating" in listed.output and "2026-03" in listed.output
    unknown = runner.invoke(args=["reports", "generate", "--tenant", "kondinsky", "--report", "nope"])
    assert unknown.exit_code == 2 and "не настроен" in unknown.output


@pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice (soffice) не установлен: проверка открытия выгрузок пропущена",
)
def test_exports_open_in_libreoffice(loaded_app, tmp_path):
    runner, client = loaded_app.test_cli_runner(), loaded_app.test_client()
    assert runner.invoke(args=[*SEED, "--tenant", "kondinsky"]).exit_code == 0
    headers = _token(loaded_app, "kondinsky")
    made = client.post("/api/v1/kondinsky/reports/rating/generate?period=2026-03", headers=headers).get_json()
    files = _exports(client, headers, made["id"], "kondinsky")
    for fmt, extra in (("xlsx", []), ("csv", ["--infilter=CSV:59,34,76,1"])):
        source = tmp_path / f"report.{fmt}"
        source.write_bytes(files[fmt])
        target = tmp_path / fmt
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                "--headless",
                "--norestore",
                *extra,
                "--convert-to",
                "pdf",
                "--outdir",
                str(target),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        converted = (target / "report.pdf").read_bytes()
        assert converted.startswith(b"%PDF-") and len(converted) > 5_000


def _section(doc: dict, heading: str) -> dict:
    (found,) = [s for s in doc["sections"] if s["heading"] == heading]
    return found


def _first_column(doc: dict, heading: str, column: str) -> dict:
    """The section's first table as {first cell: the named column}."""
    table = _section(doc, heading)["tables"][0]
    i = [c["title"] for c in table["columns"]].index(column)
    return {row[0]: row[i] for row in table["rows"]}


def test_a_system_report_counts_that_systems_messages_only(loaded_app):
    """Некрасовский п.2.6г / п.2.5г: the ПОС report counts no «Инцидент менеджмент» message, and
    the other way round, in its summary, flow, heat map and rating alike (the rollup has no
    channel dimension, so these are counted from the messages); a report of no system counts both."""
    headers = _token(loaded_app, "nekrasovsky")
    client = loaded_app.test_client()
    for channel, text in (
        ("pos", "На дороге сплошные ямы, нужен ремонт дорожного покрытия"),
        ("incident-management", "На дороге ямы, нужен ремонт дорожного покрытия"),
        ("incident-management", "Во дворе ямы на дороге, ремонт дорожного покрытия не сделан"),
    ):
        reply = client.post(
            "/api/v1/nekrasovsky/messages",
            headers=headers,
            json={"channel": channel, "text": text, "received_at": "2026-03-10T10:00:00+03:00"},
        )
        assert reply.status_code == 201, reply.get_json()

    def document(report_id: str) -> dict:
        made = client.post(
            f"/api/v1/nekrasovsky/reports/{report_id}/generate?period=2026-03", headers=headers
        )
        assert made.status_code == 201, made.get_json()
        return made.get_json()["content"]

    expected = {"pos-reporting": 1, "im-reporting": 2, "cur-analytics": 3}
    docs = {report_id: document(report_id) for report_id in expected}
    for report_id, n in expected.items():
        doc = docs[report_id]
        received = _first_column(doc, "Основные показатели", "Отчётный период: март 2026 г.")
        assert received["Поступило сообщений и обращений"] == n, report_id
        flow_new = _first_column(
            doc, "Новые, повторные, просроченные и отложенные сообщения по отраслевым блокам", "Новые"
        )
        assert flow_new["Всего"] == n, report_id
        heat = _first_column(doc, "Динамика по отраслевым блокам", "За период")
        assert sum(heat.values()) == n, report_id
        rating = _first_column(doc, "Рейтинг: органы и организации", "Сообщений")
        assert sum(rating.values()) == n, report_id
    pos = _section(docs["pos-reporting"], "Основные показатели")
    assert pos["paragraphs"][0] == "Учтены только сообщения и обращения системы «Платформа обратной связи»."
