"""The soak's own arithmetic and input (its figures are printed, never asserted as timings)."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime

from bench.soak import csv_chunk, rss_mb, slope_per_100k


def test_rss_of_this_process_is_read_from_proc():
    assert 5 < rss_mb(os.getpid()) < 100_000


def test_slope_is_megabytes_per_100k_messages():
    assert slope_per_100k([(0, 100.0), (50_000, 101.0), (100_000, 102.0)]) == 2.0
    assert slope_per_100k([(10, 150.0), (20, 150.0)]) == 0.0
    assert slope_per_100k([(10, 150.0)]) == 0.0


def test_chunks_number_rows_on_from_first_all_in_the_past():
    rows = list(csv.reader(io.StringIO(csv_chunk(1000, 3, 10_000).decode()), delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["SOAK-0001000", "SOAK-0001001", "SOAK-0001002"]
    assert all(datetime.strptime(r[1], "%d.%m.%Y %H:%M") < datetime.now() for r in rows[1:])
