"""Целевые показатели МЦУ: specs/analytics/*.feature, on a clock the scenario controls.

Messages are taken in and worked through the real operations at the moments the scenario names
(the answer «в срок» two hours after arrival, «с опозданием» a day after the term), so the KPI
facts are computed from the same event log the platform writes in production; decisions and
public hearings are recorded by the participation operations.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pytest_bdd import given, parsers, scenarios, then
from sqlmodel import Session

from mcu.analytics import kpi
from mcu.participation import operations as participation
from mcu.participation.schemas import ParticipationIn
from tests.bdd.conftest import District, config_of

scenarios("../../specs/analytics")

LATER = datetime(2027, 1, 15, tzinfo=UTC)  # the scene's «now»: after everything it records


@given(parsers.parse("в журнал МЦУ внесены:"))
def journal(session: Session, district: District, datatable: list[list[str]]) -> None:
    """Decisions and hearings recorded through the participation operations, with whether
    residents took part through ПОС; the informing about a decision's implementation refers to
    the decision by its letter."""
    config = config_of(session, district)
    head, *rows = datatable
    decisions: dict[str, object] = {}
    for row in rows:
        r = dict(zip(head, row, strict=True))
        at = district.local(r["дата"], "12:00")
        if r["событие"] == "о реализации сообщено в социальных сетях":
            participation.inform(
                session=session,
                row=decisions[r["решение"]],
                informed_at=at,
                link="https://vk.com/wall-1_1",
                actor="user:media",
                now=LATER,
            )
            continue
        hearing = r["событие"] == "публичные слушания проведены"
        data = ParticipationIn(
            kind="hearing" if hearing else "vote",
            title=f"{r['событие']} {r['дата']}",
            via_pos=r["через ПОС"] == "да",
            held_at=at,
            decision_taken=not hearing,
            decision=None if hearing else "Решение по итогам голосования",
        )
        made = participation.record(
            session=session, config=config, data=data, actor="user:coordinator", now=LATER
        )
        if r.get("решение"):
            decisions[r["решение"]] = made
    session.commit()


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


@then(parsers.parse("показатели района:"))
def indicators_are(facts: dict[str, kpi.KpiFact], datatable: list[list[str]]) -> None:
    head, *rows = datatable
    for row in rows:
        r = dict(zip(head, row, strict=True))
        fact = facts[r["показатель"]]
        got = {
            "числитель": str(fact.numerator),
            "знаменатель": str(fact.denominator),
            "факт": _shown(fact.value),
            "план": "—" if fact.target is None else f"{fact.target:g}",
            "оценка": kpi.STATUS_TEXT[fact.status],
        }
        want = {k: v for k, v in r.items() if k != "показатель"}
        assert {k: got[k] for k in want} == want, f"показатель {r['показатель']} «{fact.name}»"


@then(parsers.parse("показаны все {count:d} показателей каталога без плановых значений"))
def whole_catalogue(facts: dict[str, kpi.KpiFact], count: int) -> None:
    assert len(facts) == count
    assert all(f.target is None and f.methodology != "методика не описана" for f in facts.values())
    assert {f.status for f in facts.values()} <= {"no_target", "no_data"}
