"""durable-rules as a pure, synchronous matcher (../shared/notes/durable-rules.md).

The only module that imports durable-rules. One host per process, made lazily after fork, its
background timer threads never started; one ruleset per tenant config version; per evaluation a
fact with a fresh id is asserted, the rules whose action ran are collected and the fact is
retracted, so nothing lingers in the engine between evaluations. All state is in the database.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import threading
from typing import Any

from durable import engine as durable

from mcu.rules.compile import Rule, RuleBook

# The C engine is not thread-safe and its action callbacks report through `_hits`: one
# evaluation at a time per process (an evaluation costs tens of microseconds).
_lock = threading.Lock()
_state: dict[str, Any] = {"pid": None, "host": None, "names": set()}
_hits: list[int] = []
_ids = itertools.count(1)


class _Host(durable.Host):
    def _run(self) -> None:
        # No durable-rules timers: they live in the C heap and die with the process. Deadlines
        # are database rows fired by `mcu worker`.
        return None

    def get_action(self, action_name: str):
        index = int(action_name[1:])

        def record(_context: Any) -> None:
            _hits.append(index)

        return record


def _host() -> _Host:
    if _state["pid"] != os.getpid():  # first use in this process, or we were forked
        _state.update(pid=os.getpid(), host=_Host(), names=set())
    return _state["host"]


def evaluate(book: RuleBook, fact: dict[str, Any]) -> list[Rule]:
    """The rules of `book` that the fact satisfies, in the book's order.

    `fact` holds JSON values only and must include `event`."""
    with _lock:
        host = _host()
        if book.name not in _state["names"]:
            # set_rulesets mutates what it is given.
            host.set_rulesets(copy.deepcopy(book.durable_definition()))
            _state["names"].add(book.name)
        _hits.clear()
        payload = {**fact, "id": f"f{next(_ids)}", "sid": "0"}
        try:
            host.assert_fact(book.name, payload)
        except durable.MessageNotHandledException:
            pass
        finally:
            with contextlib.suppress(durable.MessageNotHandledException):
                host.retract_fact(book.name, payload)
        hits = sorted(set(_hits))
    return [book.rules[i] for i in hits]
