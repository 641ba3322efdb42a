"""Results of the last test run, written by the test suite (tests/bdd/conftest.py) to
`<SPEC_RESULTS_DIR>/spec-results-<database>.json`: one record per executed test case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RANK = {"failed": 3, "passed": 1, "skipped": 0}


@dataclass(frozen=True)
class RunResults:
    database: str
    finished_at: str
    outcomes: dict[tuple[str, frozenset[str]], str]  # (scenario name, tags) → worst outcome


def load_results(results_dir: Path) -> list[RunResults]:
    runs = []
    for path in sorted(results_dir.glob("spec-results-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a run being written or a broken file: no result rather than a wrong one
        outcomes: dict[tuple[str, frozenset[str]], str] = {}
        for record in data.get("cases", []):
            key = (record["scenario"], frozenset(record["tags"]))
            previous = outcomes.get(key)
            if previous is None or RANK[record["outcome"]] > RANK[previous]:
                outcomes[key] = record["outcome"]
        runs.append(RunResults(data.get("database", path.stem), data.get("finished_at", ""), outcomes))
    return runs
