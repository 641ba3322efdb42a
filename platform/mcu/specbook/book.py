"""Assemble the spec book: for each act, each clause with the cases that check it and their last
result on each database, or the reason it is not automated."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mcu.specbook.catalogue import Act, Clause, load_acts
from mcu.specbook.features import Case, ParseProblem, read_cases
from mcu.specbook.results import RunResults, load_results

STATUS_NAMES = {
    "passed": "проверяется — пройден",
    "failed": "проверяется — НЕ пройден",
    "not_run": "проверяется — ещё не запускался",
    "not_automated": "не автоматизирован",
    "missing": "отмечен проверяемым, но сценария нет",
}


@dataclass
class CaseRow:
    case: Case
    outcomes: dict[str, str | None]  # database → passed / failed / skipped / None (not run)


@dataclass
class ClauseRow:
    clause: Clause
    cases: list[CaseRow]
    status: str

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]


@dataclass
class Section:
    act: Act
    rows: list[ClauseRow]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Book:
    sections: list[Section]
    runs: list[RunResults]
    problems: list[ParseProblem]
    cases: list[Case]


def covers(case: Case, act: Act, clause: Clause) -> bool:
    return act.tenant_tag in case.tags and clause.tag in case.tags


def _status(clause: Clause, rows: list[CaseRow], runs: list[RunResults]) -> str:
    if not clause.automated:
        return "not_automated"
    if not rows:
        return "missing"
    outcomes = [o for r in rows for o in r.outcomes.values()]
    if "failed" in outcomes:
        return "failed"
    if runs and all(all(r.outcomes.get(run.database) == "passed" for run in runs) for r in rows):
        return "passed"
    return "not_run"


def build(specs_dir: Path, results_dir: Path, *, tenant: str | None = None) -> Book:
    """The whole book, or one district's: its decree, and the federal acts' clauses as its own
    scenarios check them."""
    acts = load_acts(specs_dir)
    tenant_tags = None if tenant is None else {a.tenant_tag for a in acts if a.tenant == tenant}
    cases, problems = read_cases(specs_dir)
    runs = load_results(results_dir)
    sections = []
    for act in acts:
        if tenant_tags is not None and act.tenant is not None and act.tenant_tag not in tenant_tags:
            continue
        rows = []
        for clause in act.clauses:
            matched = [
                CaseRow(c, {run.database: run.outcomes.get(c.key) for run in runs})
                for c in cases
                if covers(c, act, clause)
                and (tenant_tags is None or act.tenant is not None or tenant_tags & c.tags)
            ]
            rows.append(ClauseRow(clause, matched, _status(clause, matched, runs)))
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        sections.append(Section(act, rows, counts))
    # The districts' decrees first (in catalogue order), the federal acts after them.
    sections.sort(key=lambda s: (s.act.tenant is None, s.act.path.name))
    return Book(sections, runs, problems, cases)
