"""The people a roadmap names, taken from the district's Состав (roster).

The decrees' forms (Конд Регламент Прил. 1–2; ХМ Регламент Прил. 1–2, табл. 1) name three people,
each with «Ф.И.О., должность, сотовый телефон, email»:
- the curator of the block — «Ответственный куратор отраслевого блока (глава района/заместитель
  главы)» (Конд), «Ответственный от МО (заместитель главы, ответственный за организацию работы)» (ХМ);
- the head of the block — «Ответственный за отраслевой блок (руководитель)»;
- the coordinator — «Сотрудник, непосредственно осуществляющий организационную поддержку
  мероприятий и координацию работ».
Each slot is filled from the first role kind in its list that a roster position holds, the
position answering for the block preferred; what the roster lacks (a name, a phone) stays empty
and is filled in by hand before approval.
"""

from __future__ import annotations

from typing import Any

from mcu.tenancy.config import TenantConfig

SLOTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "curator": (
        "Ответственный куратор отраслевого блока (глава района/заместитель главы)",
        ("block_curator", "mcu_curator", "district_head"),
    ),
    "block_head": (
        "Ответственный за отраслевой блок (руководитель)",
        ("block_responsible", "block_head"),
    ),
    "coordinator": (
        "Сотрудник, непосредственно осуществляющий организационную поддержку мероприятий и координацию работ",
        ("block_specialist", "mcu_coordinator", "mcu_head"),
    ),
}
FIELDS = ("name", "position", "phone", "email")


def position_for(config: TenantConfig, role_ids: set[str], block_id: str | None) -> dict[str, Any] | None:
    """The roster position holding one of the roles: the one answering for the block first, then
    one answering for no block in particular, then any."""
    holders = [p for p in config.roster.values() if role_ids & set(p.get("roles", []))]
    for wanted in (
        lambda p: block_id is not None and block_id in (p.get("blocks") or []),
        lambda p: not p.get("blocks"),
        lambda p: True,
    ):
        for p in holders:
            if wanted(p):
                return p
    return None


def person(position: dict[str, Any], role_kind: str | None = None) -> dict[str, Any]:
    return {
        "position_id": position["id"],
        "role_kind": role_kind,
        "name": position.get("person"),
        "position": position.get("position"),
        "phone": position.get("phone"),
        "email": position.get("email"),
    }


def from_roster(config: TenantConfig, block_id: str | None) -> dict[str, Any]:
    """The three people of the form, as the roster knows them."""
    out: dict[str, Any] = {}
    for slot, (_title, kinds) in SLOTS.items():
        for kind in kinds:
            roles = {r["id"] for r in config.roles.values() if r.get("kind") == kind}
            found = position_for(config, roles, block_id)
            if found is not None:
                out[slot] = person(found, kind)
                break
        else:
            out[slot] = {f: None for f in FIELDS}
    return out


def merged(current: dict[str, Any], changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """People with the given fields replaced (a field set to null is cleared)."""
    out = {slot: dict(current.get(slot) or {}) for slot in SLOTS}
    for slot, fields in changes.items():
        out[slot].update(fields)
    return out
