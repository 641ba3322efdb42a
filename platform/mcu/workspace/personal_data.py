"""A citizen's personal data as a page shows it: in full to roles that need it (each view written to
the audit log), masked to everyone else (152-ФЗ ст. 19; 59-ФЗ ст. 6 ч. 2)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mcu.audit.operations import record_audit
from mcu.messages.models import Citizen, Message

FIELDS = {"full_name": "ФИО", "phone": "Телефон", "email": "E-mail", "postal_address": "Почтовый адрес"}


def _mask_words(value: str) -> str:
    return " ".join(w[0] + "•" * max(len(w) - 1, 2) for w in value.split())


def mask(field: str, value: str | None) -> str | None:
    if not value:
        return value
    if field == "phone":
        digits = [c for c in value if c.isdigit()]
        return "•" * max(len(digits) - 2, 3) + "".join(digits[-2:])
    if field == "email":
        name, _, domain = value.partition("@")
        return (name[:1] + "•••@" + domain) if domain else _mask_words(value)
    return _mask_words(value)


def citizen_view(session: Session, message: Message, *, full: bool, actor: str) -> dict[str, Any] | None:
    """The applicant's data for the card; `full` only for roles with `citizens.personal_data`."""
    if message.citizen_id is None:
        return None
    citizen = session.get(Citizen, (message.tenant_id, message.citizen_id))
    if citizen is None:
        return None
    shown = {f: getattr(citizen, f) for f in FIELDS}
    if full:
        record_audit(
            session=session,
            tenant_id=message.tenant_id,
            actor=actor,
            action="citizen.personal_data_viewed",
            object_kind="message",
            object_id=message.number,
            details={"fields": [f for f, v in shown.items() if v]},
        )
        return {"masked": False, "fields": [(FIELDS[f], v) for f, v in shown.items() if v]}
    return {"masked": True, "fields": [(FIELDS[f], mask(f, v)) for f, v in shown.items() if v]}
