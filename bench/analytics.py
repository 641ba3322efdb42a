"""Analytics timings on 1 to 10 million messages (issue 5), against the cheapest query for the
same district and period in the same run.

Goals on PostgreSQL with 10 million messages in 100 districts: a district's dashboard (heat map
+ KPIs for the current year) p95 < 300 ms; the region console p95 < 1 s; a district-year KPI
computation < 200 ms.

The data come from `bench/analytics_data.py` (a dedicated database, made once):

    python -m bench.analytics_data --messages 10000000
    python -m bench.analytics                        # MCU_BENCH_ANALYTICS_PG_URL or --url
    python -m bench.analytics --url A --url B        # several databases: also how figures scale
    python -m bench.analytics --explain              # + each statement's time and the plans of the slowest
    python -m bench.analytics --no-districts --regions yaroslavl   # one region's console only
    python -m bench.analytics --periods last-year last-month        # the ended periods only

Measured warm (after WARMUP calls, one when a call takes more than SLOW seconds), each figure
over --runs calls (default 20) on one session per call, as a request has: p50 and p95 (nearest
rank). A figure stops early, with at least MIN_RUNS calls, once its calls have taken --budget
seconds (default 120): a console that takes a minute is timed a few times, not twenty; each
line says how many calls it is over. Districts timed: the largest, the median and the smallest
by messages of the current year; regions: all three. Baseline: `SELECT count(*) FROM message
WHERE tenant_id = :t AND received_at >= :start` for the same district and year (an index-only
scan): each figure is also given as a multiple of it. For the largest district and region the
same calls are also timed with JIT off (a what-if, see `Bench.without_jit`).

Periods (--periods): the running year (`running`, the goals' case), last year (`last-year`) and
last month (`last-month`, the monthly rating of the МЦУ, ХМ п.1.4). An ended period is the
harder case for the rollup: the events of its messages that came after its end must be taken
off. For an ended period the dashboard is timed on the largest district, the console on every
region, each against the baseline count over that period.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from bench.analytics_data import PG_URL, read_state

WARMUP = 3
SLOW = 5.0
MIN_RUNS = 3
RETRIES = 10
GOALS_MS = {"kpi": 200, "dashboard": 300, "console": 1000}  # p95
BASELINE = sa.text(
    "SELECT count(*) FROM message WHERE tenant_id = :t AND received_at >= :start AND received_at < :end"
)
PERIODS = ("running", "last-year", "last-month")
SIZES = sa.text(
    """SELECT t.slug, t.region, count(m.id) FROM tenant t
       LEFT JOIN message m ON m.tenant_id = t.id AND m.received_at >= :start
       GROUP BY t.slug, t.region ORDER BY count(m.id) DESC, t.slug"""
)


@dataclass
class Figure:
    name: str
    samples: list[float]  # seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]


def _once(engine: Engine, call: Callable[[Session], Any]) -> float:
    """One call's time. A call cut off by the server (a restart by another bench on a shared
    machine) is not a sample: it is made again once the server answers, up to RETRIES times."""
    for attempt in range(RETRIES + 1):
        try:
            with Session(engine, expire_on_commit=False) as session:
                started = time.perf_counter()
                call(session)
                return time.perf_counter() - started
        except sa.exc.DBAPIError as exc:
            lost = exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)
            if not lost or attempt == RETRIES:
                raise
            print(f"    (connection lost: {type(exc.orig).__name__}; the call is made again)", flush=True)
            engine.dispose()
            time.sleep(3)
    raise AssertionError("unreachable")


def measure(
    engine: Engine, call: Callable[[Session], Any], runs: int, budget: float = math.inf
) -> list[float]:
    for _ in range(WARMUP):
        if _once(engine, call) > SLOW:
            break
    samples: list[float] = []
    while len(samples) < runs and (len(samples) < MIN_RUNS or sum(samples) < budget):
        samples.append(_once(engine, call))
    return samples


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f}"


class Bench:
    """One database: the sampled districts and regions, and what is timed on them."""

    def __init__(self, url: str, runs: int, budget: float) -> None:
        import mcu.models  # noqa: F401  (every table known before the first query)
        from mcu.analytics import periods
        from mcu.db import make_engine

        self.url, self.runs, self.budget = url, runs, budget
        self.engine = make_engine(url)
        self.now = datetime.now(UTC)
        self.period = periods.year(self.now.year)
        this_month = periods.month(self.now.year, self.now.month)
        self.periods = {
            "running": self.period,
            "last-year": periods.year(self.now.year - 1),
            "last-month": this_month.previous(),
        }
        self.state = read_state(url) or {}
        with Session(self.engine) as session:
            rows = session.execute(SIZES, {"start": datetime(self.now.year, 1, 1, tzinfo=UTC)}).all()
        self.year_counts = {slug: n for slug, _, n in rows}
        self.region_of = {slug: region for slug, region, _ in rows}
        self.total = sum(self.year_counts.values())
        ranked = [slug for slug, _, _ in rows]
        self.districts = list(dict.fromkeys([ranked[0], ranked[len(ranked) // 2], ranked[-1]]))
        self.regions = sorted({region for _, region, _ in rows})

    def config(self, session: Session, slug: str) -> Any:
        from mcu.tenancy.queries import current_config, tenant_by_slug

        return current_config(session, tenant_by_slug(session, slug))

    # -------------------------------------------------------------- the calls timed
    def baseline(self, slug: str, period: Any = None) -> Callable[[Session], Any]:
        period = period or self.period

        def call(session: Session) -> Any:
            config = self.config(session, slug)
            start, end = period.bounds(config.tz)
            return session.execute(BASELINE, {"t": config.tenant_id, "start": start, "end": end}).scalar_one()

        return call

    def kpi(self, slug: str, period: Any = None) -> Callable[[Session], Any]:
        from mcu.analytics import kpi

        period = period or self.period
        return lambda session: kpi.compute(session, [self.config(session, slug)], period)

    def dashboard(self, slug: str, period: Any = None) -> Callable[[Session], Any]:
        from mcu.analytics.dashboard import dashboard

        period = period or self.period
        return lambda session: dashboard(session, self.config(session, slug), period, now=self.now)

    def console(self, region: str, period: Any = None) -> Callable[[Session], Any]:
        from mcu.analytics.region import console

        period = period or self.period
        return lambda session: console(session, region, period, now=self.now)

    @staticmethod
    def without_jit(call: Callable[[Session], Any]) -> Callable[[Session], Any]:
        """The same call with PostgreSQL's JIT off for its transaction. A what-if: the KPI
        query's correlated subqueries give it an estimated cost far above jit_optimize_above_cost,
        so PostgreSQL compiles it with optimisation, which takes 0.3–1.8 s a query."""

        def wrapped(session: Session) -> Any:
            session.execute(sa.text("SET LOCAL jit = off"))
            return call(session)

        return wrapped

    # -------------------------------------------------------------- running and printing
    def measure(self, call: Callable[[Session], Any]) -> list[float]:
        return measure(self.engine, call, self.runs, self.budget)

    @property
    def regions_by_size(self) -> list[str]:
        size = {
            r: sum(n for s, n in self.year_counts.items() if self.region_of[s] == r) for r in self.regions
        }
        return sorted(self.regions, key=lambda r: -size[r])

    def run(
        self,
        *,
        districts: bool = True,
        regions: list[str] | None = None,
        periods: tuple[str, ...] = PERIODS,
    ) -> dict[tuple[str, str], Figure]:
        rows = self.state.get("rows", {})
        print(
            f"analytics on {make_url(self.url).database}: {rows.get('message', 0):,} messages, "
            f"{rows.get('event', 0):,} events, {len(self.year_counts)} districts; "
            f"period {self.period.key} ({self.total:,} messages so far)"
        )
        out: dict[tuple[str, str], Figure] = {}
        print(f"  {'':38} {'p50 ms':>9} {'p95 ms':>9} {'× base':>7} {'calls':>5}  goal (p95)")
        ended = [(k, self.periods[k]) for k in periods if k != "running"]
        for slug in self.districts if districts else []:
            print(
                f"  district {slug} ({self.region_of[slug]}, {self.year_counts[slug]:,} messages this year)"
            )
            if "running" in periods:
                base = Figure("baseline", self.measure(self.baseline(slug)))
                out[(slug, "baseline")] = base
                self._line("baseline count(*)", base, base, None)
                for name, make in (("kpi", self.kpi), ("dashboard", self.dashboard)):
                    label = {"kpi": "KPI, district-year", "dashboard": "dashboard"}[name]
                    fig = Figure(name, self.measure(make(slug)))
                    out[(slug, name)] = fig
                    self._line(label, fig, base, GOALS_MS[name])
                    if slug == self.districts[0]:
                        fig = Figure(name, self.measure(self.without_jit(make(slug))))
                        out[(slug, f"{name} (jit off)")] = fig
                        self._line(f"{label} (what-if: jit off)", fig, base, GOALS_MS[name])
            # Ended periods: the largest district's dashboard, each against its own baseline.
            for key, period in ended if slug == self.districts[0] else []:
                base = Figure("baseline", self.measure(self.baseline(slug, period)))
                out[(slug, f"baseline {key}")] = base
                self._line(f"baseline count(*), {period.key}", base, base, None)
                fig = Figure("dashboard", self.measure(self.dashboard(slug, period)))
                out[(slug, f"dashboard {key}")] = fig
                self._line(f"dashboard, {period.key} (ended)", fig, base, GOALS_MS["dashboard"])
        for region in self.regions if regions is None else [r for r in self.regions if r in regions]:
            slugs = [s for s, r in self.region_of.items() if r == region]
            messages = sum(self.year_counts[s] for s in slugs)
            print(f"  region {region} ({len(slugs)} districts, {messages:,} messages this year)")
            for key, period in [(k, self.periods[k]) for k in periods]:
                # The region's baseline: the same count for each of its districts, one after another.
                base = Figure(
                    "baseline",
                    self.measure(
                        lambda session, slugs=slugs, period=period: [
                            self.baseline(s, period)(session) for s in slugs
                        ]
                    ),
                )
                suffix = "" if key == "running" else f" {key}"
                about = "" if key == "running" else f", {period.key} (ended)"
                out[(region, f"baseline{suffix}")] = base
                self._line(f"baseline count(*) × {len(slugs)}{about}", base, base, None)
                fig = Figure("console", self.measure(self.console(region, period)))
                out[(region, f"console{suffix}")] = fig
                self._line(f"region console{about}", fig, base, GOALS_MS["console"])
                if key == "running" and region == self.regions_by_size[0]:
                    fig = Figure("console", self.measure(self.without_jit(self.console(region))))
                    out[(region, "console (jit off)")] = fig
                    self._line("region console (what-if: jit off)", fig, base, GOALS_MS["console"])
        return out

    @staticmethod
    def _line(label: str, fig: Figure, base: Figure, goal_ms: int | None) -> None:
        verdict = ""
        if goal_ms is not None:
            met = fig.p95 * 1000 < goal_ms
            verdict = f"  < {goal_ms} ms: {'met' if met else 'NOT met'}"
        print(
            f"    {label:36} {_ms(fig.p50)} {_ms(fig.p95)} {fig.p50 / base.p50:7.1f} {len(fig.samples):5}{verdict}",
            flush=True,
        )

    # -------------------------------------------------------------- where the time goes
    def explain(self, top: int, periods: tuple[str, ...] = PERIODS) -> None:
        """Each statement of one call (largest district, largest region) with its time, and
        EXPLAIN (ANALYZE, BUFFERS) of the slowest."""
        slug, region = self.districts[0], self.regions_by_size[0]
        calls = []
        for key in periods:
            period = self.periods[key]
            calls += [
                (f"KPI, district-year {slug} {period.key}", self.kpi(slug, period)),
                (f"dashboard {slug} {period.key}", self.dashboard(slug, period)),
                (f"region console {region} {period.key}", self.console(region, period)),
            ]
        for label, call in calls:
            _once(self.engine, call)  # warm
            total, statements = traced(self.engine, call)
            slowest = sorted(statements, key=lambda s: -s[0])
            in_sql = sum(s[0] for s in statements)
            print(
                f"\n== {label}: {total * 1000:.1f} ms, {len(statements)} statements, {in_sql * 1000:.1f} ms in SQL"
            )
            for seconds, statement, _ in slowest[:8]:
                print(f"  {_ms(seconds)} ms  {' '.join(statement.split())[:150]}")
            for seconds, statement, parameters in slowest[:top]:
                print(f"\n-- EXPLAIN (ANALYZE, BUFFERS), {seconds * 1000:.1f} ms when timed:")
                print("   " + " ".join(statement.split())[:400])
                raw = self.engine.raw_connection()
                try:
                    with raw.cursor() as cur:
                        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                        for (line,) in cur.fetchall():
                            print("   " + line)
                finally:
                    raw.close()


def traced(engine: Engine, call: Callable[[Session], Any]) -> tuple[float, list[tuple[float, str, Any]]]:
    """One call's total time and each statement it ran: (seconds, SQL, parameters)."""
    statements: list[tuple[float, str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((time.perf_counter() - conn.info["started"].pop(), statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            call(session)
            total = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return total, statements


def scaling(results: list[tuple[Bench, dict[tuple[str, str], Figure]]]) -> None:
    """The largest district and the largest region of each database, side by side."""
    print("\nscaling (largest district, largest region of each database; p50 / p95 ms):")
    header = "".join(f"{b.state.get('rows', {}).get('message', 0) / 1e6:>18.1f} M" for b, _ in results)
    print(f"  {'':24}{header}")
    for kind in ("baseline", "kpi", "dashboard", "console"):
        cells = []
        for bench, figs in results:
            fig = figs[(_key(bench, figs, kind), kind)]
            cells.append(f"{fig.p50 * 1000:9.1f} / {fig.p95 * 1000:7.1f}")
        print(f"  {kind:24}" + "".join(f"{c:>20}" for c in cells))
    first, last = results[0], results[-1]
    growth = last[0].state.get("rows", {}).get("message", 1) / max(
        first[0].state.get("rows", {}).get("message", 1), 1
    )
    for kind in ("baseline", "kpi", "dashboard", "console"):
        a = first[1][(_key(first[0], first[1], kind), kind)].p50
        b = last[1][(_key(last[0], last[1], kind), kind)].p50
        print(f"  {kind:24} × {b / a:5.1f} for × {growth:.1f} messages")


def _key(bench: Bench, figs: dict[tuple[str, str], Figure], kind: str) -> str:
    """The largest district; for the console, the region whose console is slowest."""
    if kind == "console":
        return max(bench.regions, key=lambda r: figs[(r, "console")].p50)
    return bench.districts[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", action="append", help="a database made by bench.analytics_data (repeatable)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of calls per figure, at most")
    parser.add_argument("--explain", action="store_true", help="statement times and plans of the slowest")
    parser.add_argument("--top", type=int, default=3, help="how many slowest statements to EXPLAIN")
    parser.add_argument("--no-districts", action="store_true", help="time the region consoles only")
    parser.add_argument("--regions", nargs="*", help="time these regions' consoles only (none: no console)")
    parser.add_argument(
        "--periods",
        nargs="+",
        choices=PERIODS,
        default=list(PERIODS),
        help="the periods timed (default: all)",
    )
    args = parser.parse_args(argv)
    periods = tuple(p for p in PERIODS if p in args.periods)
    results = []
    for url in args.url or [PG_URL]:
        name = make_url(url).database
        try:
            state = read_state(url)
        except psycopg.OperationalError:
            print(f"analytics: PostgreSQL not reachable at {url} — skipped")
            continue
        if not (state or {}).get("complete"):
            print(
                f"analytics: no generated data in {name} — make it with `python -m bench.analytics_data` (skipped)"
            )
            continue
        bench = Bench(url, args.runs, args.budget)
        results.append(
            (bench, bench.run(districts=not args.no_districts, regions=args.regions, periods=periods))
        )
        if args.explain:
            bench.explain(args.top, periods)
    if len(results) > 1 and not args.no_districts and args.regions is None and "running" in periods:
        scaling(results)


if __name__ == "__main__":
    main()
