"""Routing: who is responsible for a message, from the tenant's roster.

A message about a settlement goes to that settlement's responsible person where the district's
roster has one (a position with `settlement` and a settlement_responsible role); otherwise to
the head of the message's thematic block. Pure: decides, does not write.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcu.tenancy.config import TenantConfig


@dataclass(frozen=True)
class Route:
    position_id: str | None
    reason: str


def route(config: TenantConfig, *, block_id: str | None, settlement_id: str | None) -> Route:
    if settlement_id:
        for position in config.positions_with_role_kind("settlement_responsible"):
            if position.get("settlement") == settlement_id:
                place = config.settlements.get(settlement_id, {}).get("name", settlement_id)
                return Route(position["id"], f"ответственный за взаимодействие в поселении «{place}»")
    if block_id is None:
        return Route(None, "блок не определён: сообщение на сортировке")
    block = config.blocks.get(block_id)
    if block is None:
        return Route(None, f"блок «{block_id}» отсутствует в конфигурации района")
    head = block.get("head")
    if head is None or head not in config.roster:
        return Route(None, f"у блока «{block['name']}» не указан руководитель в составе")
    return Route(head, f"руководитель отраслевого блока «{block['name']}»")
