"""Классификация и маршрутизация: specs/routing/маршрутизация.feature.

Automatic routing is read back through the district's API; the manual direction from the sorting
queue is done as staff do it — a user holding the role signs in and submits the card's form.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from tests.bdd.conftest import Api, District, Reply
from tests.helpers import staff_client

scenarios("../../specs/routing/маршрутизация.feature")


@then(parsers.re(r"в районе действуют отраслевые блоки(?:, названные в «(?P<clause>[^»]+)»)?:"))
def blocks_are(district: District, clause: str | None, datatable: list[list[str]]) -> None:
    """Exactly these blocks (of those the decree's clause names, where it is given), each with a
    head in the district's Состав to whom its messages go."""
    blocks = [
        b
        for b in district.config.blocks.values()
        if clause is None or any(place.get("clause") == clause for place in b.get("listed_in") or [])
    ]
    assert sorted(b["name"] for b in blocks) == sorted(row[0] for row in datatable[1:])
    assert all(b.get("head") in district.config.roster for b in blocks), [b.get("head") for b in blocks]


@when(
    parsers.re(r"«(?P<role>[^»]+)» направляет его исполнителю «(?P<position>[^»]+)»"),
    target_fixture="directed",
)
def directed_by_role(
    loaded_app, district: District, message: Reply, role: str, position: str
) -> dict[str, Any]:
    """A user holding the role (by its name in the decree) assigns the executor from the card."""
    (kind,) = {r["kind"] for r in district.config.roles.values() if r["name"] == role}
    (position_id,) = [p["id"] for p in district.config.roster.values() if p["position"] == position]
    card = f"/t/{district.slug}/messages/{message.id}"
    with loaded_app.app_context():
        login = f"{kind}-{uuid.uuid4().hex[:6]}"
        client = staff_client(loaded_app, login, grants=((district.slug, kind),))
        page = client.get(card).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"csrf_token": token, "action": "assign", "position": position_id, "reason": "с сортировки"}
        sent = client.post(f"{card}/action", data=form)
    return {"status": sent.status_code, "role": role, "login": login}


@then("направить не позволено")
def direction_forbidden(directed: dict[str, Any]) -> None:
    """The role has no right to work with messages: the platform refuses."""
    assert directed["status"] == 403, directed


@then(parsers.re(r"в истории назначение исполнителя записано за «(?P<role>[^»]+)»"))
def assignment_by(api: Api, district: District, message: Reply, directed: dict[str, Any], role: str) -> None:
    """The manual assignment is the staff member's, not the router's."""
    assert directed["status"] == 302 and directed["role"] == role, directed
    events = api.message(district, message)["events"]
    assigned = [e for e in events if e["kind"] == "assigned"]
    assert [e["actor"] for e in assigned] == [f"user:{directed['login']}"], events
    assert not [e for e in events if e["kind"] == "routed"], events
