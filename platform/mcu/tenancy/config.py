"""TenantConfig: a district's effective configuration as the running platform reads it.

Built from the current TenantConfigVersion row (never from the YAML files directly), so the
platform keeps serving its last good configuration whatever is on disk.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class TenantConfig:
    tenant_id: int
    slug: str
    version_id: uuid.UUID
    version_hash: str
    data: dict[str, Any]
    provenance: dict[str, Any]
    resolved: dict[str, Any]

    @property
    def region(self) -> str:
        return self.data["region"]

    @property
    def name(self) -> str:
        return self.data["name"]["short"]

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.data["timezone"])

    def _by_id(self, section: str) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in self.data.get(section) or []}

    @cached_property
    def blocks(self) -> dict[str, dict[str, Any]]:
        return self._by_id("blocks")

    @cached_property
    def roles(self) -> dict[str, dict[str, Any]]:
        return self._by_id("roles")

    @cached_property
    def roster(self) -> dict[str, dict[str, Any]]:
        return self._by_id("roster")

    @cached_property
    def channels(self) -> dict[str, dict[str, Any]]:
        return self._by_id("channels")

    @cached_property
    def settlements(self) -> dict[str, dict[str, Any]]:
        return self._by_id("settlements")

    @cached_property
    def acts(self) -> dict[str, dict[str, Any]]:
        return self._by_id("acts")

    @property
    def settings(self) -> dict[str, Any]:
        return self.data.get("settings") or {}

    def deadline_profile(self, profile_id: str) -> dict[str, Any]:
        """The profile, each timer's source labelled with the act's number for explanations
        («59-ФЗ, ст. 12 ч. 1» rather than an internal id)."""
        return self._labelled_profiles[profile_id]

    @cached_property
    def _labelled_profiles(self) -> dict[str, dict[str, Any]]:
        acts = {**self.resolved.get("acts", {}), **self.acts}
        out = {}
        for pid, profile in self.resolved["deadline_profiles"].items():
            timers = []
            for timer in profile.get("timers", []):
                source = dict(timer.get("source") or {})
                act = acts.get(source.get("act"), {})
                if act.get("number") and source.get("act") != "platform":
                    source["label"] = act["number"] if "ФЗ" in act["number"] else f"№ {act['number']}"
                timers.append({**timer, "source": source})
            out[pid] = {**profile, "timers": timers}
        return out

    def blocks_for_topic(self, topic: str) -> list[dict[str, Any]]:
        return [b for b in self.blocks.values() if b.get("topic") == topic]

    def positions_with_role_kind(self, kind: str) -> list[dict[str, Any]]:
        role_ids = {r["id"] for r in self.roles.values() if r.get("kind") == kind}
        return [p for p in self.roster.values() if role_ids & set(p.get("roles", []))]

    def origin(self, section: str) -> dict[str, Any] | None:
        """Where a top-level section of the effective config came from (district or region)."""
        return self.provenance.get(section)
