"""The analytics rollup gives what the direct computation gives — KPI numerators and
denominators, heat-map cells, the summary (the median within its bucket) — after every kind of
write, to a reader in the writer's own transaction and to any later one, for a running and an
ended period (ending on any day around later events), and after a rebuild; concurrent writers of one district-day never conflict."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from mcu.analytics import kpi, rollup
from mcu.analytics.models import (
    KpiRollup,
    KpiRollupAnswerHours,
    KpiRollupIndicator,
    KpiRollupIndicatorChange,
    KpiRollupStale,
    KpiRollupState,
)
from mcu.analytics.periods import Period, month, year
from mcu.db import engine, writer_bind
from mcu.messages import operations as ops
from mcu.messages.schemas import CitizenIn, MessageIn
from mcu.tenancy.queries import current_config, tenant_by_slug

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
PERIODS = [month(2026, 11), month(2026, 12), year(2026)]


@pytest.fixture
def kond(loaded_app):
    with loaded_app.app_context(), Session(engine()) as s:
        yield s, current_config(s, tenant_by_slug(s, "kondinsky"))


def _arrive(s, config, when, block, settlement=None, *, channel="pos", citizen=None):
    data = MessageIn(
        channel=channel,
        text=f"Сообщение {when.isoformat()} ({block})",
        block=block,
        settlement=settlement,
        received_at=when,
        citizen=CitizenIn(full_name=citizen, phone="+79990000000") if citizen else None,
    )
    return ops.receive_message(session=s, config=config, data=data, actor="test", now=when).message


def _agree(s, config, now=NOW):
    assert rollup.ready(s, [config]) == {config.tenant_id}
    for period in PERIODS:
        assert rollup.check(s, config, period, now) == [], period.key


def _rows(s):
    tables = (
        KpiRollup.__table__,
        KpiRollupIndicator.__table__,
        KpiRollupIndicatorChange.__table__,
        KpiRollupAnswerHours.__table__,
    )
    return [sorted(tuple(r) for r in s.execute(sa.select(t))) for t in tables]


def _nov(day, hour=10):
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_rollup_equals_the_direct_computation_after_every_kind_of_write(kond):
    s, config = kond
    # Intake and routing (automatic), on several channels, settlements and blocks; one message
    # on the evening of 31 October UTC, which is 1 November in Кондинский.
    road = _arrive(s, config, _nov(2), "roads", "mezhdurechensky")
    school = _arrive(s, config, _nov(3), "education", "kondinskoe", channel="incident-management")
    appeal = _arrive(s, config, _nov(4), "roads", channel="site-reception", citizen="Иванов Иван Иванович")
    other = _arrive(s, config, _nov(5), "education", channel="site-reception", citizen="Петров Пётр")
    twin = _arrive(s, config, _nov(6), "roads", "mezhdurechensky")
    misfiled = _arrive(s, config, _nov(7), "roads", "kondinskoe")
    _arrive(s, config, datetime(2026, 10, 31, 20, tzinfo=UTC), "roads", "mezhdurechensky")
    _agree(s, config)  # in the same transaction, before it commits
    s.commit()
    _agree(s, config)

    # Answers: on time, late, preliminary on social media; control; a rating that reopens.
    ops.answer(
        session=s,
        message=road,
        text="Сделано",
        final=True,
        actor="x",
        now=road.received_at + timedelta(hours=5),
    )
    ops.answer(session=s, message=school, text="Принято", final=False, actor="x", now=_nov(3, 12))
    ops.answer(
        session=s,
        message=school,
        text="Сделано",
        final=True,
        actor="x",
        now=school.due_at + timedelta(days=2),
    )
    ops.record_control(session=s, message=road, kind="photo", reference="IMG-1", actor="x", now=_nov(2, 16))
    ops.rate(session=s, config=config, message=school, score=1, comment=None, actor="citizen", now=_nov(28))
    s.commit()
    _agree(s, config)

    # Extension, forwarding, reclassification (re-routes), staff assignment, merge (duplicate).
    ops.extend(session=s, config=config, message=appeal, days=10, actor="user:head", reason="проверка")
    ops.forward(
        session=s, config=config, message=other, to_body="прокуратура", actor="user:head", reason="не наша"
    )
    ops.reclassify(
        session=s, config=config, message=misfiled, block_id="education", actor="user:head", reason="ошибка"
    )
    ops.assign(
        session=s,
        config=config,
        message=appeal,
        position_id=next(iter(config.roster)),
        actor="user:head",
        reason="вручную",
    )
    ops.mark_duplicate(session=s, message=twin, original=road, actor="user:head")
    s.commit()
    _agree(s, config)

    # An answer given after November ended counts for the year, not for November.
    ops.answer(
        session=s,
        message=appeal,
        text="Ответ",
        final=True,
        actor="x",
        now=datetime(2026, 12, 3, 9, tzinfo=UTC),
    )
    s.commit()
    _agree(s, config)
    nov = {f.indicator_id: f for f in kpi.compute(s, [config], month(2026, 11))[config.tenant_id]}
    assert nov["auto_delivery_share"].denominator == 6  # the duplicate is not counted
    # Overdue as it stood at another moment: still exact.
    _agree(s, config, now=_nov(20))

    # The worker folds the marked days in; a rebuild from scratch gives the same rows.
    assert rollup.catch_up_all(engine()) > 0
    s.rollback()
    before = _rows(s)
    assert all(before)
    with rollup_session() as fresh:
        rollup.rebuild(fresh, config)
    s.expire_all()
    assert _rows(s) == before
    _agree(s, config)


def _dec(day, hour=10):
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_an_ended_period_leaves_out_the_events_after_its_end_whatever_day_it_ends(kond):
    """Events on the days after a period's end change the stored counts; the period takes off
    what each later day changed (kpi_rollup_indicator_change), ending on any day."""
    s, config = kond
    # Local days (Кондинский is UTC+5): 28, 29 and 30 November.
    sms = _arrive(s, config, _nov(28), "roads", "mezhdurechensky")
    social = _arrive(s, config, _nov(29), "education", "kondinskoe", channel="incident-management")
    appeal = _arrive(s, config, _nov(30), "roads", channel="site-reception", citizen="Иванов Иван Иванович")
    # Later days: an answer in the term (fast track), control on record, a staff assignment (a
    # new delivery), a preliminary answer on social media (the executor indicator), an extension
    # and an answer to the appeal, events of one message on one day.
    ops.answer(session=s, message=sms, text="Сделано", final=True, actor="x", now=_dec(2))
    ops.record_control(session=s, message=sms, kind="photo", reference="IMG-2", actor="x", now=_dec(4))
    other = next(p for p in config.roster if p != social_position(s, social))
    ops.assign(
        session=s,
        config=config,
        message=social,
        position_id=other,
        actor="user:head",
        reason="вручную",
        now=_dec(3),
    )
    ops.answer(session=s, message=social, text="Принято", final=False, actor="x", now=_dec(5))
    ops.extend(
        session=s, config=config, message=appeal, days=10, actor="user:head", reason="проверка", now=_dec(6)
    )
    ops.answer(session=s, message=appeal, text="Ответ", final=True, actor="x", now=_dec(6, 11))
    ops.record_control(session=s, message=appeal, kind="video", reference="V-1", actor="x", now=_dec(6, 12))
    s.commit()
    assert rollup.catch_up_all(engine()) > 0
    s.rollback()
    changes = rollup.indicator_changes(s, [config.tenant_id], _nov(1).date(), _dec(1).date())
    assert changes[config.tenant_id][("fast_track_share", "")] == (1, 0)
    assert changes[config.tenant_id][("auto_control_share", "")] == (2, 0)
    assert rollup.indicator_changes(s, [config.tenant_id], _nov(1).date(), _dec(7).date()) == {}
    for last in range(27, 31):
        _agree_on(s, config, Period(_nov(1).date(), _nov(last).date(), "span"))
    for last in range(1, 8):
        _agree_on(s, config, Period(_nov(1).date(), _dec(last).date(), "span"))
        _agree_on(s, config, Period(_nov(29).date(), _dec(last).date(), "span"))
    _agree(s, config)


def social_position(s, message):
    from mcu.messages.models import Assignment

    row = s.execute(
        sa.select(Assignment.position_id).where(
            Assignment.tenant_id == message.tenant_id, Assignment.message_id == message.id, Assignment.active
        )
    ).first()
    return row[0] if row else None


def _agree_on(s, config, period):
    assert rollup.check(s, config, period, NOW) == [], period.key


def rollup_session():
    from mcu.db import session_scope

    return session_scope()


def test_a_district_without_a_built_rollup_is_computed_directly(kond, loaded_app):
    s, config = kond
    _arrive(s, config, _nov(2), "roads")
    s.commit()
    for model in (KpiRollupState, KpiRollup, KpiRollupIndicator, KpiRollupAnswerHours):
        s.execute(sa.delete(model.__table__))
    s.commit()
    assert rollup.ready(s, [config]) == set()
    facts = kpi.compute(s, [config], year(2026))[config.tenant_id]
    assert [f.as_dict() for f in facts] == [
        f.as_dict() for f in kpi.compute_reference(s, [config], year(2026))[config.tenant_id]
    ]
    # A write to a district without a rollup leaves it unbuilt; loading the districts adopts it.
    _arrive(s, config, _nov(3), "roads")
    s.commit()
    assert s.execute(sa.select(sa.func.count()).select_from(KpiRollup.__table__)).scalar() == 0
    result = loaded_app.test_cli_runner().invoke(args=["analytics", "rebuild", "--tenant", "kondinsky"])
    assert result.exit_code == 0, result.output
    s.rollback()  # a fresh snapshot: the command committed in its own session
    assert rollup.ready(s, [config]) == {config.tenant_id}
    _agree(s, config)


def test_cli_rebuild_checks_and_fails_on_a_difference(kond, loaded_app):
    s, config = kond
    for day in (2, 3, 4):
        _arrive(s, config, _nov(day), "roads")
    s.commit()
    runner = loaded_app.test_cli_runner()
    result = runner.invoke(args=["analytics", "rebuild", "--tenant", "kondinsky", "--check", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "kondinsky 2026-11: совпадает" in result.output and "[1/1] kondinsky" in result.output
    # A rollup that went wrong is reported (the check alone, without rebuilding, is the function).
    s.execute(sa.update(KpiRollup.__table__).values(received=KpiRollup.__table__.c.received + 1))
    s.commit()
    problems = rollup.check(s, config, month(2026, 11), NOW)
    assert any("тепловая карта" in p for p in problems) and any("received" in p for p in problems)


def test_bucketed_median_takes_percentile_cont_s_middle():
    assert rollup.median_from_buckets({}) is None
    assert rollup.median_from_buckets({5: 1}) == 5.5
    assert rollup.median_from_buckets({5: 3}) == 5.5  # three values spread over [5, 6)
    assert rollup.median_from_buckets({2: 1, 170: 1}) == 115.2  # the mean of 2.5 and 228, rounded
    assert rollup.bucket_range(168 + 2) == (216.0, 240.0)


def _count(s, model) -> int:
    return s.execute(sa.select(sa.func.count()).select_from(model.__table__)).scalar()


def test_a_writer_only_marks_its_day_readers_compute_it_and_the_worker_folds_it_in(kond, loaded_app):
    s, config = kond
    _arrive(s, config, _nov(2), "roads")
    s.commit()
    assert rollup.catch_up_all(engine()) == 1
    s.rollback()
    assert _count(s, KpiRollupStale) == 0
    before = _rows(s)
    _arrive(s, config, _nov(2, 15), "roads")
    _arrive(s, config, _nov(5), "education")
    s.commit()
    s.rollback()
    # The writer added a mark per district-day and left the rollup rows alone.
    marks = s.execute(sa.select(KpiRollupStale.__table__.c.day)).scalars().all()
    assert sorted(str(d) for d in marks) == ["2026-11-02", "2026-11-05"]
    assert _rows(s) == before
    # Readers compute the marked days afresh (exact already) and write nothing.
    _agree(s, config)
    s.rollback()
    assert len(s.execute(sa.select(KpiRollupStale.__table__.c.day)).all()) == 2
    assert _rows(s) == before
    # The worker's round folds them into the stored rows.
    assert rollup.catch_up_all(engine()) == 2
    s.rollback()
    assert _count(s, KpiRollupStale) == 0
    assert _rows(s) != before
    _agree(s, config)


def test_concurrent_writers_of_one_district_day_all_commit(kond, loaded_app):
    """Each writer once rewrote the day's rollup rows in its own transaction: two of them on one
    district-day then collided on the primary key and one intake failed (seen under load on
    PostgreSQL). Now every writer commits, and the figures still agree."""
    s, config = kond
    _arrive(s, config, _nov(9, 8), "roads")
    s.commit()
    writers, each = 6, 5
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with loaded_app.app_context(), Session(writer_bind(engine())) as mine:
                start.wait()
                for i in range(each):
                    _arrive(mine, config, _nov(9, 10) + timedelta(minutes=n * each + i), "roads")
                    mine.commit()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    s.rollback()
    cells = rollup.counts_by_days(s, config.tenant_id, [(_nov(9).date(), _nov(10).date())], False)
    assert cells == {(0, "roads"): 1 + writers * each}
    _agree(s, config)


def test_a_dashboard_looks_at_state_and_marks_once_and_shows_what_each_figure_shows(kond, loaded_app):
    """A dozen rollup reads make a dashboard: within `rollup.reading` they share one look at the
    built state and the stale marks, and give what each read gives on its own."""
    from mcu.analytics import heatmap
    from mcu.analytics.dashboard import dashboard

    s, config = kond
    _arrive(s, config, _nov(2), "roads")
    s.commit()
    assert rollup.catch_up_all(engine()) == 1
    _arrive(s, config, _nov(3), "roads")
    _arrive(s, config, _nov(5), "education")
    s.commit()
    s.rollback()
    assert _count(s, KpiRollupStale) == 2  # two days for the readers to compute afresh
    period = month(2026, 11)
    looked: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        looked.extend(t for t in ("kpi_rollup_state", "kpi_rollup_stale") if f"FROM {t}" in statement)

    sa.event.listen(engine(), "before_cursor_execute", note)
    try:
        board = dashboard(s, config, period, now=NOW)
    finally:
        sa.event.remove(engine(), "before_cursor_execute", note)
    assert sorted(looked) == ["kpi_rollup_stale", "kpi_rollup_state"]
    alone = kpi.compute(s, [config], period)[config.tenant_id]
    assert board["kpi"] == [f.as_dict() for f in alone]
    assert board["summary"] == rollup.summaries(s, [config], period, NOW)[config.tenant_id]
    today = NOW.astimezone(config.tz).date()
    assert board["heat_map"] == heatmap.heat_map(s, config, period, today=today)
    assert board["summary"]["received"] == 3


def test_a_reading_sees_the_sessions_own_writes(kond):
    """A write flushed inside `rollup.reading` makes it look at the marks again."""
    s, config = kond
    _arrive(s, config, _nov(2), "roads")
    s.commit()
    assert rollup.catch_up_all(engine()) == 1
    period = month(2026, 11)

    def received():
        return rollup.summaries(s, [config], period, NOW)[config.tenant_id]["received"]

    with rollup.reading(s):
        assert received() == 1
        _arrive(s, config, _nov(4), "education")
        s.flush()
        assert received() == 2
        assert rollup.check(s, config, period, NOW) == []
