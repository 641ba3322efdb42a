"""Отчёты и их сроки: specs/reports/*.feature, on a clock the scenario controls.

Messages are taken in and worked through the real operations at the moments the scenario names
(the shared step «поступили сообщения»); the report schedule is run as the worker runs it
(`mcu.reports.schedule.run`) at a local moment of the district, and a report made on request is
asked for through the JSON API. What a scenario checks is the stored report row (its period and
when it was generated), the notification the responsible role got, and the built document's
sections and tables as every export shows them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlmodel import Session, select

from mcu.db import engine
from mcu.messages.models import Message
from mcu.notifications.models import Notification
from mcu.reports import schedule
from mcu.reports.models import Report
from tests.bdd.conftest import DATE, MONTHS, TIME, Api, District, config_of
from tests.helpers import staff_client

scenarios("../../specs/reports")


def configured(district: District, words: str) -> dict[str, Any]:
    """The one report of the district whose name contains the decree's words."""
    found = [r for r in district.config.data.get("reports") or [] if words.casefold() in r["name"].casefold()]
    assert len(found) == 1, (words, [r["name"] for r in district.config.data.get("reports") or []])
    return found[0]


def day(text: str) -> date:
    return datetime.strptime(text, "%d.%m.%Y").date()


def stored(session: Session, district: District, words: str, start: str, end: str) -> list[Report]:
    spec = configured(district, words)
    session.commit()  # a fresh read: the worker and the API wrote in their own transactions
    return list(
        session.exec(
            select(Report).where(
                Report.tenant_id == district.config.tenant_id,
                Report.report_id == spec["id"],
                Report.period_start == day(start),
                Report.period_end == day(end),
            )
        )
    )


def shown(value: Any) -> str:
    """A cell as a lawyer writes it: «—» for nothing, a decimal comma, no «.0»; spacing as printed
    in a position's name is not significant."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return " ".join(str(value).split())


def section_of(report: Report, heading: str) -> dict[str, Any]:
    found = [s for s in report.content["sections"] if s["heading"] == heading]
    assert len(found) == 1, [s["heading"] for s in report.content["sections"]]
    return found[0]


def table_rows(report: Report, heading: str, head: list[str]) -> list[list[str]]:
    """The rows of the section's first table, reduced to the columns the scenario names."""
    table = section_of(report, heading)["tables"][0]
    titles = [c["title"] for c in table["columns"]]
    assert set(head) <= set(titles), (head, titles)
    return [[shown(row[titles.index(h)]) for h in head] for row in table["rows"]]


# ---------------------------------------------------------------- when
@when(parsers.re(rf"(?P<on>{DATE}) в (?P<at>{TIME}) по местному времени срабатывает график отчётов"))
def schedule_runs(loaded_app, session: Session, district: District, on: str, at: str) -> None:
    """The worker's round of scheduled reports at that local moment (every district's); the
    scenario's own session ends its reading first, as another process would."""
    session.commit()
    with loaded_app.app_context():
        made = schedule.run(engine(), now=district.local(on, at))
    assert made >= 0


@when(
    parsers.re(
        rf"по запросу формируется отчёт «(?P<words>.+?)» за период с (?P<start>{DATE}) по (?P<end>{DATE})"
    ),
    target_fixture="report",
)
def made_on_request(
    api: Api, session: Session, district: District, words: str, start: str, end: str
) -> Report:
    """Someone asks for the report through the API, naming the period."""
    spec = configured(district, words)
    key = f"{day(start).isoformat()}..{day(end).isoformat()}"
    reply = api.call(district, "POST", f"/reports/{spec['id']}/generate?period={key}")
    assert reply.status == 201, reply.body
    (row,) = stored(session, district, words, start, end)
    return row


# ---------------------------------------------------------------- then: the schedule
@then(parsers.re(rf"отчёт «(?P<words>.+?)» за период с (?P<start>{DATE}) по (?P<end>{DATE}) не сформирован"))
def not_made(session: Session, district: District, words: str, start: str, end: str) -> None:
    assert stored(session, district, words, start, end) == []


MADE = rf"отчёт «(?P<words>.+?)» за период с (?P<start>{DATE}) по (?P<end>{DATE}) сформирован (?P<on>{DATE}) в (?P<at>{TIME})"


@then(parsers.re(MADE + "$"), target_fixture="report")
@then(parsers.re(MADE + r", один раз$"), target_fixture="report")
def made(session: Session, district: District, words: str, start: str, end: str, on: str, at: str) -> Report:
    """Generated by the worker at that local moment; one document per period, never rebuilt."""
    rows = stored(session, district, words, start, end)
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row.generated_by, row.generations, row.status) == ("worker", 1, "ready")
    assert row.generated_at.astimezone(district.config.tz) == district.local(on, at)
    return row


@then(parsers.parse("по графику сформированы отчёты района:"))
def made_by_schedule(session: Session, district: District, datatable: list[list[str]]) -> None:
    """Exactly these reports, for these periods, were generated by the worker in the district."""
    head, *rows = datatable
    expected = sorted(
        (configured(district, r[head.index("отчёт")])["id"], r[head.index("с")], r[head.index("по")])
        for r in rows
    )
    session.commit()  # a fresh read: the worker and the API wrote in their own transactions
    got = sorted(
        (r.report_id, f"{r.period_start:%d.%m.%Y}", f"{r.period_end:%d.%m.%Y}")
        for r in session.exec(select(Report).where(Report.tenant_id == district.config.tenant_id))
        if r.generated_by == "worker"
    )
    assert got == expected


@then(parsers.re(r"отчёт «(?P<words>.+?)» по графику не формируется"))
def never_scheduled(session: Session, district: District, words: str) -> None:
    spec = configured(district, words)
    assert (spec.get("schedule") or {}).get("every") == "on_request", spec.get("schedule")
    rows = session.exec(
        select(Report).where(Report.tenant_id == district.config.tenant_id, Report.report_id == spec["id"])
    )
    assert list(rows) == []


@then(parsers.re(r"«(?P<role>.+?)» получил уведомление об отчёте: «(?P<fragment>.+)»"))
def notified(session: Session, district: District, report: Report, role: str, fragment: str) -> None:
    """Every holder of the role got one notification of the report, saying the fragment."""
    config = config_of(session, district)
    (role_id,) = [r for r, v in config.roles.items() if v["name"] == role]
    holders = {p for p, v in config.roster.items() if role_id in v.get("roles", [])}
    notes = list(session.exec(select(Notification).where(Notification.subject_id == report.id)))
    assert holders and {n.position_id for n in notes} == holders, ([n.position_id for n in notes], holders)
    assert len(notes) == len(holders)
    assert all(fragment in n.body for n in notes), notes[0].body


# ---------------------------------------------------------------- then: the document
@then(parsers.re(r"в отчёте указано: (?P<label>[^—]+) — «(?P<value>.+)»"))
def title_block(report: Report, label: str, value: str) -> None:
    """A line of the title block (Получатель, Ответственный, Периодичность, Основание …)."""
    lines = dict(report.content["subtitle"])
    assert value in (lines.get(label.strip()) or ""), lines


@then(parsers.re(r"в разделе «(?P<heading>.+?)» сказано: «(?P<fragment>.+)»"))
def paragraph_says(report: Report, heading: str, fragment: str) -> None:
    paragraphs = section_of(report, heading)["paragraphs"]
    assert any(fragment in p for p in paragraphs), paragraphs


@then(parsers.re(r"раздел «(?P<heading>.+?)»:"))
def whole_table(report: Report, heading: str, datatable: list[list[str]]) -> None:
    """The section's table, row by row, in the columns the scenario names."""
    head, *rows = datatable
    assert table_rows(report, heading, head) == rows


@then(parsers.re(r"в разделе «(?P<heading>.+?)» есть строки:"))
def some_rows(report: Report, heading: str, datatable: list[list[str]]) -> None:
    """These rows, keyed by their first column (the other rows of the table are not checked)."""
    head, *rows = datatable
    got = {r[0]: r for r in table_rows(report, heading, head)}
    assert [got.get(r[0]) for r in rows] == rows


@then(parsers.re(r"нерешённое сообщение (?P<n>\d+) поясняется: «(?P<fragment>.+)»"))
def explained(report: Report, messages: dict[str, Message], n: str, fragment: str) -> None:
    """The weekly report's explanation of an unresolved message."""
    rows = table_rows(report, "Нерешённые сообщения и обращения с пояснениями", ["№ сообщения", "Пояснение"])
    found = [why for number, why in rows if number == messages[n].number]
    assert found and fragment in found[0], rows


# ---------------------------------------------------------------- the analytics' slices
SLICES = {"ответственные получатели": "executor", "органы и организации": "body", "поселения": "settlement"}


@when(
    parsers.re(
        r"аналитика за (?P<name>\w+) (?P<y>\d{4}) года выводится в разрезе «(?P<by>[^»]+)»"
        r"(?: по каналу «(?P<channel>.+)»)?$"
    ),
    target_fixture="analytics_slice",
)
def analytics_slice(
    api: Api, district: District, name: str, y: str, by: str, channel: str | None
) -> list[dict]:
    """The analytics API's rating rows for a month, in the slice (and for the channel) asked."""
    query = f"period={y}-{MONTHS[name]:02d}&by={SLICES[by]}"
    if channel:
        query += f"&channel={district.config.channels[district.channel(channel)]['kind']}"
    return api.get(district, f"/analytics/ratings?{query}")["rows"]


@then(parsers.parse("в разрезе строки:"))
def slice_rows(analytics_slice: list[dict], datatable: list[list[str]]) -> None:
    head, *rows = datatable
    fields = {
        "название": "name",
        "сообщений": "messages",
        "ответов": "answered",
        "место": "place",
        "в срок, %": "on_time_share",
        "просрочено": "overdue_open",
        "балл": "score",
    }
    assert [[shown(r[fields[h]]) for h in head] for r in analytics_slice] == rows


# ---------------------------------------------------------------- the heat map's forecast
@when(parsers.re(r"строится тепловая карта за (?P<name>\w+) (?P<y>\d{4}) года"), target_fixture="heat")
def heat_map_built(api: Api, district: District, name: str, y: str) -> dict[str, Any]:
    """The heat map as the analytics API gives it (the same data the page and reports show)."""
    return api.get(district, f"/analytics/heatmap?period={y}-{MONTHS[name]:02d}")


@then(parsers.parse("на тепловой карте сообщения есть только по блокам:"))
def heat_map_blocks(heat: dict[str, Any], datatable: list[list[str]]) -> None:
    """The blocks with messages in the period, in the columns the scenario names; every other
    block of the district has none."""
    head, *rows = datatable
    fields = {"За период": "total", "За предыдущий период": "previous", "Индекс роста": "growth_index"}
    got = {
        r["name"]: [r["name"], *(shown(r[fields[h]]) for h in head[1:])] for r in heat["blocks"] if r["total"]
    }
    assert got == {r[0]: r for r in rows}


FORECAST = (
    rf"по блоку «(?P<block>[^»]+)» прогноз на период с (?P<start>{DATE}) по (?P<end>{DATE}) — "
    r"(?P<n>\d+) сообщений: за тот же период прошлого года (?P<same>\d+), за следующий (?P<next>\d+), "
    r"сейчас (?P<now>\d+)"
)


@then(parsers.re(FORECAST))
def forecast_is(
    heat: dict[str, Any], block: str, start: str, end: str, n: str, same: str, next: str, now: str
) -> None:
    assert heat["compared_with"]["forecast_for"] == {
        "start": day(start).isoformat(),
        "end": day(end).isoformat(),
    }
    (row,) = [r for r in heat["blocks"] if r["name"] == block]
    got = (row["forecast_next"], row["last_year"], row["last_year_next"], row["total"])
    assert got == (int(n), int(same), int(next), int(now))


# ---------------------------------------------------------------- the dashboard page
class _Tables(HTMLParser):
    """The tables of a page, each under the nearest heading (h2) before it, as rows of cell text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tiles: dict[str, str] = {}
        self.words: list[str] = []  # the page's text, for what is said outside tables
        self._heading: str | None = None
        self._in: str | None = None
        self._text: list[str] = []
        self._row: list[str] | None = None
        self._tile: list[str] | None = None
        self._current: list[list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self._in, self._text = "h2", []
        elif tag == "table" and self._heading:
            self._current = self.tables.setdefault(self._heading, [])
        elif tag == "tr" and self._current is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._in, self._text = "cell", []
        elif tag in ("a", "div") and ("class", "tile") in attrs:
            self._tile = []
        elif tag == "details" and self._in == "cell":
            self._in = "skip"

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._in == "h2":
            self._heading, self._in = " ".join("".join(self._text).split()), None
        elif tag in ("td", "th") and self._row is not None and self._in in ("cell", "skip"):
            self._row.append(" ".join("".join(self._text).split()))
            self._in = None
        elif tag == "details" and self._in == "skip":
            self._in = "cell"
        elif tag == "tr" and self._row is not None and self._current is not None:
            self._current.append(self._row)
            self._row = None
        elif tag == "table":
            self._current = None
        elif tag in ("a", "div") and self._tile is not None:
            # «<b>3</b>поступило», «<b>1</b>просрочено (33,3%)»: the figure, then what it counts
            found = re.match(r"([\d,]+|—)\s*([^(]*)", " ".join("".join(self._tile).split()))
            if found:
                self.tiles[found[2].strip()] = found[1]
            self._tile = None

    def handle_data(self, data: str) -> None:
        self.words.append(data)
        if self._in in ("h2", "cell"):
            self._text.append(data)
        if self._tile is not None:
            self._tile.append(data)


@when(
    parsers.re(r"сотрудник МЦУ открывает панель района за (?P<name>\w+) (?P<y>\d{4}) года"),
    target_fixture="dashboard_page",
)
def dashboard_opened(loaded_app, district: District, name: str, y: str) -> _Tables:
    """The district's dashboard page as a signed-in member of staff sees it."""
    return _dashboard(loaded_app, district, f"{y}-{MONTHS[name]:02d}")


def _dashboard(app, district: District, period: str) -> _Tables:
    # The requests get an application context of their own, so that their database session ends
    # with them and the next log-in reads what was written since (the scenario's `session`
    # fixture holds an outer context that requests would otherwise share).
    with app.app_context():
        page = staff_client(app).get(f"/t/{district.slug}/dashboard?period={period}")
    assert page.status_code == 200
    parsed = _Tables()
    parsed.feed(page.get_data(as_text=True))
    return parsed


def _today(district: District) -> date:
    return datetime.now(district.config.tz).date()


@when("сотрудник МЦУ открывает панель района за текущий месяц", target_fixture="dashboard_page")
def dashboard_this_month(loaded_app, district: District) -> _Tables:
    """The running month, as of now: the page is built when it is opened, not in advance."""
    return _dashboard(loaded_app, district, f"{_today(district):%Y-%m}")


@then("на панели показаны данные по сегодняшний день включительно")
def dashboard_up_to_today(district: District, dashboard_page: _Tables) -> None:
    said = " ".join(" ".join(dashboard_page.words).split())
    assert f"Данные по {_today(district):%d.%m.%Y} включительно" in said, said[:300]


@then(parsers.re(r"на панели: (?P<label>[^—]+) — (?P<value>\S+)$"))
def tile_shows(dashboard_page: _Tables, label: str, value: str) -> None:
    assert dashboard_page.tiles.get(label.strip()) == value, dashboard_page.tiles


@then(parsers.re(r"на панели в таблице «(?P<heading>.+?)» строки:"))
def dashboard_rows(dashboard_page: _Tables, heading: str, datatable: list[list[str]]) -> None:
    """Rows keyed by their first cell, in the columns the scenario names."""
    table = dashboard_page.tables.get(heading)
    assert table, list(dashboard_page.tables)
    titles, *rows = table
    head, *expected = datatable
    assert set(head) <= set(titles), (head, titles)
    got = {r[0]: [r[titles.index(h)] for h in head] for r in rows}
    assert [got.get(r[0]) for r in expected] == expected, rows
