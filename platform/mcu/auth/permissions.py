"""The permission matrix (rules/access/permissions.yaml) and what a user may do in a district.

Permissions are granted to role *kinds*, so a district onboarded by YAML alone gets the same
matrix. A user's rights in a district are the union of the kinds of their active role
assignments there; a platform admin holds every right everywhere; a regional analyst holds the
analyst's rights in every district of their region.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask import current_app

PLATFORM_ADMIN = "platform_admin"
REGIONAL_ANALYST = "regional_analyst"
LEGAL_REVIEWER = "legal_reviewer"
# Roles that exist on the platform, not in any decree; they are assigned, never configured.
PLATFORM_ROLES = (PLATFORM_ADMIN, REGIONAL_ANALYST, LEGAL_REVIEWER)


@dataclass(frozen=True)
class Permission:
    id: str
    title: str
    roles: frozenset[str]
    source: str


@dataclass(frozen=True)
class Matrix:
    role_names: dict[str, str]
    permissions: dict[str, Permission]

    def granted(self, role_kinds: set[str]) -> frozenset[str]:
        if PLATFORM_ADMIN in role_kinds:
            return frozenset(self.permissions)
        return frozenset(p.id for p in self.permissions.values() if p.roles & role_kinds)

    def role_name(self, kind: str) -> str:
        return self.role_names.get(kind, kind)


def _path() -> Path:
    return Path(current_app.config["RULES_DIR"]) / "access" / "permissions.yaml"


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Matrix:
    data: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    names = dict(data["roles"])
    permissions: dict[str, Permission] = {}
    for item in data["permissions"]:
        unknown = set(item["roles"]) - set(names)
        if unknown:
            # A typo in a role kind would silently take a right away from everyone holding it.
            raise ValueError(f"{path}: право {item['id']}: неизвестные роли {', '.join(sorted(unknown))}")
        permissions[item["id"]] = Permission(
            id=item["id"], title=item["title"], roles=frozenset(item["roles"]), source=item["source"]
        )
    return Matrix(role_names=names, permissions=permissions)


def matrix() -> Matrix:
    return _load(str(_path()))
