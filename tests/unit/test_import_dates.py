"""The import's own reading of export dates answers exactly as datetime.strptime does."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import pytest

from mcu.messages.imports import _strptime, load_mappings

RULES = Path(__file__).resolve().parents[2] / "rules"
FORMATS = sorted(
    {f for m in load_mappings(RULES)[0].values() for f in m.date_formats if f != "iso"}
    | {"%d/%m/%y %H.%M", "%Y-%m-%d  %H:%M:%S", "%m%d", "%d %b %Y"}  # two-digit year, no year, %b
)
TEXTS = [
    "".join(p)
    for p in itertools.product(
        ["1", "01", "12", "31", " 5", "29", "2025", "25"],
        [".", "/", "-", " ", ""],
        ["02", "2", "13", "03"],
        [".", "/", "-", ""],
        ["2025", "2024", "69", "1900"],
        ["", " 9:05", " 09:05:60", " 23:59:59", "  10:00", " 24:00", " 10.30", "x"],
    )
] + ["05 Mar 2025", "31.02.2025 11:00", "29.02.2024", "29.02.2025", "0101", "1231", ""]


def _reference(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_date_reads_as_strptime_reads_it(fmt):
    assert [_strptime(t, fmt) for t in TEXTS] == [_reference(t, fmt) for t in TEXTS]
