"""Who an action addresses: a role (by id or kind) → the roster positions holding it, narrowed
to the message's block for block-level roles. Pure: reads the config only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcu.tenancy.config import TenantConfig

# Kinds whose holders are assigned to blocks (roster `blocks`): a block's head is told about
# that block's messages, not every block head of the district.
BLOCK_KINDS = {"block_curator", "block_head", "block_specialist", "block_responsible"}


@dataclass(frozen=True)
class Addressee:
    role_id: str
    role_name: str
    position_id: str | None  # None: the role has no position in the roster (e.g. the region's)
    position_name: str | None
    email: str | None = None


def addressees(
    config: TenantConfig,
    *,
    role: str | None = None,
    role_kind: str | None = None,
    block_id: str | None = None,
) -> list[Addressee]:
    if role is not None:
        roles = [config.roles[role]] if role in config.roles else []
    else:
        roles = [r for r in config.roles.values() if r.get("kind") == role_kind]
    out: list[Addressee] = []
    for r in roles:
        holders = [p for p in config.roster.values() if r["id"] in (p.get("roles") or [])]
        if block_id is not None and r.get("kind") in BLOCK_KINDS:
            scoped = [p for p in holders if not p.get("blocks") or block_id in p["blocks"]]
            holders = scoped or holders
        if not holders:
            out.append(Addressee(r["id"], r["name"], None, None))
        for p in holders:
            out.append(Addressee(r["id"], r["name"], p["id"], p["position"], p.get("email")))
    return out


def describe(found: list[Addressee]) -> list[dict[str, Any]]:
    return [
        {
            "role": a.role_id,
            "role_name": a.role_name,
            "position": a.position_id,
            "position_name": a.position_name,
        }
        for a in found
    ]
