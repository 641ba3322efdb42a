"""Защита информации: specs/access/*.feature.

A resident's message arrives through the district's API with the applicant's personal data; staff
of the roles the scenario names open its card in the web UI, signed in through the real log-in
form, and what the page shows, the audit log records and the API returns is read back.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when
from sqlmodel import Session, func, select

from mcu.audit.models import AuditRecord
from mcu.db import engine
from tests.bdd.conftest import DATE, TIME, Api, District, Reply, arrive
from tests.helpers import staff_client

scenarios("../../specs/access")

APPLICANT = (
    rf"житель «(?P<name>[^»]+)» с телефоном «(?P<phone>[^»]+)» (?P<day>{DATE}) в (?P<time>{TIME}) "
    r"направил по каналу «(?P<channel>[^»]+)» (?:сообщение|обращение) «(?P<text>[^»]+)»"
)


@given(parsers.re(APPLICANT), target_fixture="message")
def applicant_writes(
    api: Api, district: District, name: str, phone: str, day: str, time: str, channel: str, text: str
) -> Reply:
    """The channel's system passes on who wrote, as it knows it."""
    reply = arrive(api, district, day, time, channel, text, citizen={"full_name": name, "phone": phone})
    assert reply.status == 201, reply.body
    return reply


def _card(app, district: District, message: Reply, as_district: District, role: str) -> tuple[int, str]:
    """The card as a user holding the role (by its name in `as_district`'s decree) sees it; the
    requests get an application context of their own, as separate requests do."""
    (kind,) = {r["kind"] for r in as_district.config.roles.values() if r["name"] == role}
    with app.app_context():
        client = staff_client(app, grants=((as_district.slug, kind),))
        page = client.get(f"/t/{district.slug}/messages/{message.id}")
    return page.status_code, page.get_data(as_text=True)


@when(parsers.re(r"карточку сообщения открывает «(?P<role>[^»]+)»$"), target_fixture="card")
def card_opened(loaded_app, district: District, message: Reply, role: str) -> tuple[int, str]:
    """A user of the district holding the role."""
    return _card(loaded_app, district, message, district, role)


@when(
    parsers.re(r"карточку сообщения открывает «(?P<role>[^»]+)» из района «(?P<other>[^»]+)»"),
    target_fixture="card",
)
def card_opened_from_elsewhere(
    loaded_app, api: Api, district: District, message: Reply, role: str, other: str
) -> tuple[int, str]:
    """A user of another district, holding a role of that district, tries this district's card."""
    return _card(loaded_app, district, message, api.district(other), role)


def _applicant(api: Api, district: District, message: Reply) -> dict[str, str]:
    """The applicant as stored (read without the web UI)."""
    from mcu.messages.models import Citizen, Message

    with api.app.app_context(), Session(engine()) as s:
        stored = s.exec(
            select(Message).where(
                Message.number == message.body["number"], Message.tenant_id == district.config.tenant_id
            )
        ).one()
        citizen = s.get(Citizen, (stored.tenant_id, stored.citizen_id))
        return {"name": citizen.full_name, "phone": citizen.phone}


@then("ФИО и телефон заявителя на карточке скрыты")
def masked(api: Api, district: District, message: Reply, card: tuple[int, str]) -> None:
    status, page = card
    who = _applicant(api, district, message)
    assert status == 200
    assert who["name"].split()[0] not in page and who["phone"][-5:] not in page
    assert who["name"][0] + "•" in page  # the card says there is an applicant, masked


@then("ФИО и телефон заявителя на карточке показаны полностью")
def in_full(api: Api, district: District, message: Reply, card: tuple[int, str]) -> None:
    status, page = card
    who = _applicant(api, district, message)
    assert status == 200 and who["name"] in page and who["phone"] in page


@then(parsers.parse("в журнале аудита просмотров персональных данных заявителя: {n:d}"))
def views_audited(api: Api, district: District, message: Reply, n: int) -> None:
    with api.app.app_context(), Session(engine()) as s:
        views = s.exec(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.tenant_id == district.config.tenant_id,
                AuditRecord.action == "citizen.personal_data_viewed",
                AuditRecord.object_id == message.body["number"],
            )
        ).one()
    assert views == n


@then("сообщение не найдено")
def not_found(card: tuple[int, str]) -> None:
    """Another district's message is a 404, as if it did not exist — not a 403 that confirms it."""
    assert card[0] == 404


@then("API района не выдаёт персональные данные заявителя")
def api_silent(api: Api, district: District, message: Reply) -> None:
    who = _applicant(api, district, message)
    shown: dict[str, Any] = api.message(district, message)
    text = json.dumps(shown, ensure_ascii=False)
    assert who["name"].split()[0] not in text and who["phone"][-5:] not in text
