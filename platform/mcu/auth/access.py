"""What a logged-in user may do in a district: the roles they hold there, read through the
permission matrix. No role in a district means the district does not exist for them (404)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from mcu.auth.models import RoleAssignment, User
from mcu.auth.permissions import PLATFORM_ADMIN, REGIONAL_ANALYST, matrix
from mcu.tenancy.models import Tenant


@dataclass(frozen=True)
class Access:
    kinds: frozenset[str]
    permissions: frozenset[str]
    # Roster positions the user holds in the district: «мои сообщения» are those routed there.
    positions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def access_in(session: Session, user: User | None, tenant: Tenant) -> Access | None:
    if user is None or not user.is_active:
        return None
    kinds: set[str] = set()
    positions: set[str] = set()
    if user.is_platform_admin:
        kinds.add(PLATFORM_ADMIN)
    if user.analyst_region and user.analyst_region == tenant.region:
        kinds.add(REGIONAL_ANALYST)
    for assignment in session.exec(
        select(RoleAssignment).where(
            RoleAssignment.tenant_id == tenant.id, RoleAssignment.user_id == user.id, RoleAssignment.active
        )
    ):
        kinds.add(assignment.role_kind)
        if assignment.position_id:
            positions.add(assignment.position_id)
    if not kinds:
        return None
    return Access(frozenset(kinds), matrix().granted(kinds), frozenset(positions))


def tenants_for(session: Session, user: User) -> list[Tenant]:
    """The districts a user can open, for the start page."""
    tenants = list(session.exec(select(Tenant).where(Tenant.active).order_by(Tenant.region, Tenant.name)))
    if user.is_platform_admin:
        return tenants
    own = set(
        session.exec(
            select(RoleAssignment.tenant_id).where(RoleAssignment.user_id == user.id, RoleAssignment.active)
        )
    )
    return [t for t in tenants if t.id in own or (user.analyst_region and t.region == user.analyst_region)]


def region_access(session: Session, user: User | None, region: str, permission: str) -> bool | None:
    """None: the user has nothing in the region (it does not exist for them); False: they work
    there but lack the permission; True: allowed."""
    if user is None or not user.is_active:
        return None
    tenants = [t for t in tenants_for(session, user) if t.region == region]
    if not tenants:
        return None
    return any((a := access_in(session, user, t)) is not None and a.can(permission) for t in tenants)
