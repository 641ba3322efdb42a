"""Validating all tenants (located YAML + JSON Schema + region merge + cross-checks) against the
baseline of merely parsing the same files with PyYAML's C loader, in the same process.

It tells how much the `file:line` error reporting and the checks cost on top of reading YAML:
`mcu tenants load` runs this on every reload.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml

from mcu.tenancy.loader import read_tenants

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 7


def _time(fn) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    files = sorted((ROOT / "tenants").rglob("*.yaml"))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def baseline() -> None:
        for f in files:
            yaml.load(f.read_text(encoding="utf-8"), Loader=loader)

    def full() -> None:
        result = read_tenants(None, tenants_dir=ROOT / "tenants", rules_dir=ROOT / "rules")
        assert result.ok, result.problems[:3]

    base, ours = _time(baseline), _time(full)
    lines = sum(f.read_text(encoding="utf-8").count("\n") for f in files)
    print(f"tenant validation: {len(files)} files, {lines} lines")
    print(f"  baseline PyYAML {loader.__name__} parse: {base * 1000:8.1f} ms")
    print(f"  validate (locations+schema+merge+checks): {ours * 1000:8.1f} ms")
    print(f"  ratio validate / parse: {ours / base:6.1f}x")


if __name__ == "__main__":
    main()
