"""Primary keys: time-ordered UUIDs (RFC 9562 version 7).

Ids are made by the application so that every tenant-owned table can key on
(tenant_id, id) — the shape a table distributed by tenant needs — on SQLite and PostgreSQL
alike; time order keeps B-tree inserts local on large tables.

Within one process ids are also monotonic (RFC 9562 §6.2, method 1: the 12 `rand_a` bits are a
counter within a millisecond): events written in one operation share a timestamp, and their ids
must still sort in the order they happened.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> uuid.UUID:
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            # start low in the counter's range so that many ids fit in one millisecond
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        counter = _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= counter << 64  # rand_a used as a counter
    value |= 0b10 << 62  # variant
    value |= rand_b
    return uuid.UUID(int=value)
