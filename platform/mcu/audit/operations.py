"""Writing audit records (the one place that does)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mcu.audit.models import AuditRecord


def record_audit(
    *,
    session: Session,
    tenant_id: int,
    actor: str,
    action: str,
    object_kind: str,
    object_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    record = AuditRecord(
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        object_kind=object_kind,
        object_id=object_id,
        details=details or {},
    )
    session.add(record)
    return record
