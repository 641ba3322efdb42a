"""The virtual reception form (/t/<tenant>/reception) and the citizen's rating link."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from sqlmodel import func, select

from mcu.db import get_session
from mcu.messages import operations as ops
from mcu.messages.models import Citizen, Message
from mcu.messages.queries import message_by_id
from mcu.messages.reception import rating_url
from mcu.tenancy.queries import current_config, tenant_by_slug

FIVE = ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky")
ROAD_TEXT = "Огромная яма на дороге у дома, машины не проедут"


def _config(app, slug):
    with app.app_context():
        return current_config(get_session(), tenant_by_slug(get_session(), slug))


def _has_reception(config) -> bool:
    return any(c["kind"] == "site_reception" for c in config.channels.values())


@pytest.fixture
def slug(loaded_app):
    """A district that accepts обращения through its site, found from the configuration."""
    return next(s for s in FIVE if _has_reception(_config(loaded_app, s)))


def _messages(app, slug) -> list[Message]:
    with app.app_context():
        session = get_session()
        tenant = tenant_by_slug(session, slug)
        return list(session.exec(select(Message).where(Message.tenant_id == tenant.id)))


def _citizens(app) -> int:
    with app.app_context():
        return get_session().exec(select(func.count()).select_from(Citizen)).one()


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def _open_form(client, slug) -> dict[str, str]:
    html = client.get(f"/t/{slug}/reception").get_data(as_text=True)
    return {"csrf_token": _hidden(html, "csrf_token"), "submission_id": _hidden(html, "submission_id")}


def _filled(client, slug, **fields) -> dict[str, str]:
    data = {
        **_open_form(client, slug),
        "full_name": "Петрова Анна Сергеевна",
        "email": "petrova@example.ru",
        "postal_address": "",
        "phone": "",
        "block": "",
        "settlement": "",
        "address": "ул. Ленина, 5",
        "text": ROAD_TEXT,
        "consent": "yes",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# ---------------------------------------------------------------- the form
@pytest.mark.parametrize("district", FIVE)
def test_form_or_unavailable_page_for_each_district(loaded_app, district):
    config = _config(loaded_app, district)
    client = loaded_app.test_client()
    response = client.get(f"/t/{district}/reception")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    if _has_reception(config):
        assert 'name="full_name"' in html and 'name="consent"' in html and "59-ФЗ, ст. 11" in html
        assert "Не знаю — определит система" in html
        for block in config.blocks.values():
            assert f'value="{block["id"]}"' in html
        for settlement in config.settlements.values():
            assert f'value="{settlement["id"]}"' in html
    else:
        assert "не принимает обращения через сайт" in html and 'name="full_name"' not in html
        some_channel = next(c for c in config.channels.values() if c["kind"] != "sed")
        assert some_channel["name"] in html
        assert client.post(f"/t/{district}/reception", data={"text": "x"}).status_code == 404


def test_both_kinds_of_district_exist(loaded_app):
    """Keeps the parametrised test above meaningful if the tenant files change."""
    kinds = {_has_reception(_config(loaded_app, s)) for s in FIVE}
    assert kinds == {True, False}


def test_valid_post_stores_one_routed_message_and_a_replay_stores_none(loaded_app, slug):
    client = loaded_app.test_client()
    data = _filled(client, slug)
    first = client.post(f"/t/{slug}/reception", data=data)
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    (message,) = _messages(loaded_app, slug)
    assert message.channel_id == _channel_id(loaded_app, slug)
    assert message.external_id.endswith(data["submission_id"])
    assert message.block_id is not None and message.status == "assigned"
    assert message.due_at is not None
    assert message.number in html and "Срок ответа" in html and "отраслевой блок" in html
    assert "petrova@example.ru" in html

    replay = client.post(f"/t/{slug}/reception", data=data)
    assert replay.status_code == 200
    assert message.number in replay.get_data(as_text=True)
    assert "уже было зарегистрировано" in replay.get_data(as_text=True)
    assert len(_messages(loaded_app, slug)) == 1
    assert _citizens(loaded_app) == 1


def test_success_page_does_not_name_the_executor(loaded_app, slug):
    client = loaded_app.test_client()
    html = client.post(f"/t/{slug}/reception", data=_filled(client, slug)).get_data(as_text=True)
    config = _config(loaded_app, slug)
    positions = {p["position"] for p in config.roster.values()}
    assert not [p for p in positions if p in html]


def _channel_id(app, slug) -> str:
    config = _config(app, slug)
    return next(c["id"] for c in config.channels.values() if c["kind"] == "site_reception")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"full_name": ""}, "Укажите фамилию"),
        ({"email": "", "postal_address": ""}, "Укажите адрес электронной почты или почтовый адрес"),
        ({"consent": None}, "Без согласия на обработку персональных данных"),
        ({"text": "   "}, "Напишите текст обращения"),
        ({"email": "не-адрес"}, "Проверьте адрес электронной почты"),
        ({"text": "я" * 20_001}, "не более 20000 знаков"),
    ],
)
def test_invalid_post_keeps_values_shows_errors_and_stores_nothing(loaded_app, slug, change, error):
    client = loaded_app.test_client()
    data = _filled(client, slug, phone="+7 900 000-00-00", address="пер. Почтовый, 3", **change)
    response = client.post(f"/t/{slug}/reception", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert error in html and "Обращение не отправлено" in html
    for field in ("full_name", "email", "phone", "address"):
        if data.get(field):
            assert f'value="{data[field]}"' in html, field
    if data["text"].strip():
        assert data["text"][:50] in html
    assert _hidden(html, "submission_id") == data["submission_id"]
    assert _messages(loaded_app, slug) == [] and _citizens(loaded_app) == 0


def test_postal_address_alone_is_enough(loaded_app, slug):
    client = loaded_app.test_client()
    data = _filled(client, slug, email="", postal_address="628200, пгт Междуреченский, ул. Ленина, 5, кв. 1")
    html = client.post(f"/t/{slug}/reception", data=data).get_data(as_text=True)
    assert "по почтовому адресу" in html
    assert len(_messages(loaded_app, slug)) == 1


def test_chosen_topic_and_settlement_are_kept(loaded_app, slug):
    config = _config(loaded_app, slug)
    block, settlement = next(iter(config.blocks)), next(iter(config.settlements))
    client = loaded_app.test_client()
    html = client.post(
        f"/t/{slug}/reception", data=_filled(client, slug, block=block, settlement=settlement)
    ).get_data(as_text=True)
    (message,) = _messages(loaded_app, slug)
    assert (message.block_id, message.settlement_id) == (block, settlement)
    assert config.blocks[block]["name"] in html


def test_unknown_topic_is_a_field_error(loaded_app, slug):
    client = loaded_app.test_client()
    html = client.post(f"/t/{slug}/reception", data=_filled(client, slug, block="no-such-block")).get_data(
        as_text=True
    )
    assert "Выберите тему из списка" in html and _messages(loaded_app, slug) == []


@pytest.mark.parametrize("tamper", ["wrong token", "no session", "bad submission id"])
def test_forged_post_is_400_and_stores_nothing(loaded_app, slug, tamper):
    client = loaded_app.test_client()
    data = _filled(client, slug)
    if tamper == "wrong token":
        data["csrf_token"] = "forged"
    elif tamper == "no session":
        client = loaded_app.test_client()
    else:
        data["submission_id"] = "1"
    response = client.post(f"/t/{slug}/reception", data=data)
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)
    assert _messages(loaded_app, slug) == []


def test_honeypot_pretends_success_and_stores_nothing(loaded_app, slug):
    client = loaded_app.test_client()
    response = client.post(f"/t/{slug}/reception", data=_filled(client, slug, homepage="http://spam.example"))
    assert response.status_code == 200 and "Обращение принято" in response.get_data(as_text=True)
    assert _messages(loaded_app, slug) == [] and _citizens(loaded_app) == 0


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_citizen_text_is_escaped(loaded_app, slug, payload):
    client = loaded_app.test_client()
    data = _filled(client, slug, text=f"{ROAD_TEXT} {payload}", postal_address=payload)
    html = client.post(f"/t/{slug}/reception", data=data).get_data(as_text=True)
    assert len(_messages(loaded_app, slug)) == 1
    assert payload not in html and "<script>" not in html and "<img" not in html
    assert "&lt;" in html
    # The re-rendered form (an error elsewhere) escapes what it keeps as well.
    data = _filled(client, slug, full_name="", text=payload, address=payload)
    html = client.post(f"/t/{slug}/reception", data=data).get_data(as_text=True)
    assert payload not in html and "<script>" not in html and "<img" not in html


# ---------------------------------------------------------------- the rating link
def _submitted(app, slug) -> Message:
    """One обращение through the form, routed to an executor (topic chosen, so no triage)."""
    client = app.test_client()
    block = next(iter(_config(app, slug).blocks))
    client.post(f"/t/{slug}/reception", data=_filled(client, slug, block=block))
    (message,) = _messages(app, slug)
    assert message.status == "assigned"
    return message


def _answer(app, slug, message_id) -> None:
    with app.app_context():
        session = get_session()
        message = message_by_id(session, tenant_by_slug(session, slug).id, message_id)
        ops.answer(session=session, message=message, text="Яма заделана.", final=True, actor="user:test")
        session.commit()


def _reload(app, slug, message_id) -> Message:
    with app.app_context():
        session = get_session()
        return message_by_id(session, tenant_by_slug(session, slug).id, message_id)


def _link(app, slug, message_id) -> str:
    with app.app_context():
        return rating_url(slug, message_id)


def _rate(client, link, score, comment=""):
    html = client.get(link).get_data(as_text=True)
    return client.post(
        link, data={"csrf_token": _hidden(html, "csrf_token"), "score": str(score), "comment": comment}
    )


def test_rating_url_shape(loaded_app, slug):
    with loaded_app.test_request_context():
        in_request = rating_url(slug, uuid.uuid4())
    assert re.fullmatch(rf"/t/{slug}/rate/[\w.-]+", _link(loaded_app, slug, uuid.uuid4()))
    assert in_request.startswith(f"/t/{slug}/rate/")


def test_signed_link_before_and_after_the_answer(loaded_app, slug):
    message = _submitted(loaded_app, slug)
    link, client = _link(loaded_app, slug, message.id), loaded_app.test_client()
    not_yet = client.get(link)
    assert not_yet.status_code == 200 and "ещё не дан" in not_yet.get_data(as_text=True)
    assert 'name="score"' not in not_yet.get_data(as_text=True)

    _answer(loaded_app, slug, message.id)
    page = client.get(link).get_data(as_text=True)
    assert message.number in page and 'name="score"' in page and "ответ дан" in page


def test_poor_rating_reopens(loaded_app, slug):
    message = _submitted(loaded_app, slug)
    _answer(loaded_app, slug, message.id)
    limit = ops.poor_rating_limit(_config(loaded_app, slug))
    response = _rate(loaded_app.test_client(), _link(loaded_app, slug, message.id), limit, "Яму не заделали")
    assert response.status_code == 200
    assert "Обращение возобновлено, исполнитель рассмотрит его повторно" in response.get_data(as_text=True)
    stored = _reload(loaded_app, slug, message.id)
    assert (stored.status, stored.rating) == ("reopened", limit)


def test_good_rating_does_not_reopen_and_the_latest_rating_counts(loaded_app, slug):
    message = _submitted(loaded_app, slug)
    _answer(loaded_app, slug, message.id)
    link, client = _link(loaded_app, slug, message.id), loaded_app.test_client()
    response = _rate(client, link, 5)
    assert response.status_code == 200 and "возобновлено" not in response.get_data(as_text=True)
    assert "Вы уже оценили ответ на 5" in client.get(link).get_data(as_text=True)
    _rate(client, link, 4)
    stored = _reload(loaded_app, slug, message.id)
    assert (stored.status, stored.rating) == ("answered", 4)


def test_rating_form_errors_and_csrf(loaded_app, slug):
    message = _submitted(loaded_app, slug)
    _answer(loaded_app, slug, message.id)
    link, client = _link(loaded_app, slug, message.id), loaded_app.test_client()
    html = client.get(link).get_data(as_text=True)
    no_score = client.post(link, data={"csrf_token": _hidden(html, "csrf_token"), "comment": "<b>Плохо</b>"})
    assert no_score.status_code == 200 and "Выберите оценку" in no_score.get_data(as_text=True)
    assert "&lt;b&gt;Плохо&lt;/b&gt;" in no_score.get_data(as_text=True)
    assert client.post(link, data={"csrf_token": "forged", "score": "1"}).status_code == 400
    assert _reload(loaded_app, slug, message.id).rating is None


def test_bad_links_are_404(loaded_app, monkeypatch):
    with_reception = [s for s in FIVE if _has_reception(_config(loaded_app, s))]
    owner, other = with_reception[0], next(s for s in FIVE if s != with_reception[0])
    message = _submitted(loaded_app, owner)
    _answer(loaded_app, owner, message.id)
    link, client = _link(loaded_app, owner, message.id), loaded_app.test_client()
    token = link.rsplit("/", 1)[1]
    # Change the signature's first character: the last one of a base64 signature carries unused
    # padding bits, so changing it can leave the signature valid.
    head, sig = link.rsplit(".", 1)
    tampered = f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    signed_for_other = _link(loaded_app, other, message.id)  # valid signature, wrong tenant's message
    made_at = time.time() - 61 * 24 * 3600
    with monkeypatch.context() as m:  # a link made 61 days ago
        m.setattr(time, "time", lambda: made_at)
        expired = _link(loaded_app, owner, message.id)
    for bad in (
        tampered,
        link.replace(f"/t/{owner}/", f"/t/{other}/"),
        signed_for_other,
        expired,
        f"/t/{owner}/rate/{token[: len(token) // 2]}",
        _link(loaded_app, owner, uuid.uuid4()),
    ):
        response = client.get(bad)
        assert response.status_code == 404, bad
        assert "Ссылка недействительна" in response.get_data(as_text=True)
        assert client.post(bad, data={"score": "1"}).status_code == 404, bad
    assert client.get(link).status_code == 200
    assert _reload(loaded_app, owner, message.id).status == "answered"
