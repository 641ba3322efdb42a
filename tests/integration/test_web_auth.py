"""Staff log-in, the permission matrix on every page, tenant isolation for logged-in users,
personal data and untrusted text in the web UI."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlmodel import Session, select

from mcu.audit.models import AuditRecord
from mcu.auth.permissions import PLATFORM_ADMIN, REGIONAL_ANALYST
from mcu.db import engine
from tests.helpers import PASSWORD, csrf, make_user, sign_in, staff_client

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


def _token(app, slug: str) -> dict[str, str]:
    out = app.test_cli_runner().invoke(args=["tokens", "create", "--tenant", slug]).stdout
    return {"Authorization": "Bearer " + out.split()[0]}


def _message(app, slug: str = "kondinsky", **body) -> dict:
    response = app.test_client().post(
        f"/api/v1/{slug}/messages",
        headers=_token(app, slug),
        json={"channel": "pos", "block": "roads", "text": "Яма на дороге у школы", **body},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _login(client, login: str, password: str, ip: str = "10.0.0.1"):
    token = csrf(client, "/login")
    return client.post(
        "/login",
        data={"login": login, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


# ---------------------------------------------------------------- authentication
def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(loaded_app):
    user = make_user(loaded_app, "koord", grants=(("kondinsky", "mcu_coordinator"),))
    client = loaded_app.test_client()
    assert client.get("/t/kondinsky/messages").headers["Location"].startswith("/login?next=")
    response = _login(client, "koord", PASSWORD)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert client.get("/t/kondinsky/messages").status_code == 200
    assert (
        client.post("/logout", data={"csrf_token": csrf(client, "/t/kondinsky/messages")}).status_code == 302
    )
    assert client.get("/t/kondinsky/messages").status_code == 302
    with loaded_app.app_context(), Session(engine()) as s:
        logins = s.exec(select(AuditRecord).where(AuditRecord.action == "user.login")).all()
    assert [r.object_id for r in logins] == [user.login]


def test_wrong_password_is_refused_and_guessing_is_throttled(loaded_app):
    make_user(loaded_app, "koord", grants=(("kondinsky", "mcu_coordinator"),))
    client = loaded_app.test_client()
    for _ in range(5):
        assert _login(client, "koord", "не тот пароль").status_code == 401
    refused = _login(client, "koord", PASSWORD)
    assert refused.status_code == 429 and "Слишком много" in refused.get_data(as_text=True)
    # The lock is per login and address: the same person from another address still gets in.
    assert _login(loaded_app.test_client(), "koord", PASSWORD, ip="10.0.0.2").status_code == 302


def test_login_without_csrf_token_is_refused(loaded_app):
    make_user(loaded_app, "koord", grants=(("kondinsky", "mcu_coordinator"),))
    client = loaded_app.test_client()
    response = client.post("/login", data={"login": "koord", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/t/kondinsky/messages").status_code == 302


def test_open_redirect_after_login_is_refused(loaded_app):
    make_user(loaded_app, "koord", grants=(("kondinsky", "mcu_coordinator"),))
    client = loaded_app.test_client()
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"login": "koord", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
    )
    assert response.headers["Location"] == "/"


def test_cli_manages_users_and_a_reset_ends_open_sessions(loaded_app):
    runner = loaded_app.test_cli_runner()
    made = runner.invoke(args=["users", "add", "root-admin", "--admin", "--name", "Администратор"])
    assert made.exit_code == 0, made.output
    first = re.search(r"Пароль \(показывается один раз\): (\S+)", made.output).group(1)
    again = runner.invoke(args=["users", "add", "other", "--admin"])
    assert first != re.search(r": (\S+)$", again.output.strip()).group(1)  # generated, never a default
    client = loaded_app.test_client()
    assert _login(client, "root-admin", first).status_code == 302
    assert client.get("/t/kondinsky/audit").status_code == 200

    reset = runner.invoke(args=["users", "reset-password", "root-admin"])
    second = re.search(r"Новый пароль \(показывается один раз\): (\S+)", reset.output).group(1)
    assert client.get("/t/kondinsky/audit").status_code == 302  # the old session is over
    assert _login(client, "root-admin", first).status_code == 401
    assert _login(client, "root-admin", second).status_code == 302

    granted = runner.invoke(
        args=[
            "users",
            "add",
            "ivanova",
            "--tenant",
            "kondinsky",
            "--role",
            "mcu-coordinator",
            "--name",
            "Иванова",
        ]
    )
    assert granted.exit_code == 0, granted.output
    bad = runner.invoke(args=["users", "grant", "ivanova", "--tenant", "kondinsky", "--role", "nope"])
    assert bad.exit_code == 1 and "не определена в районе" in bad.output
    assert "kondinsky:mcu-coordinator" in runner.invoke(args=["users", "list"]).output

    assert runner.invoke(args=["users", "disable", "root-admin"]).exit_code == 0
    assert client.get("/t/kondinsky/audit").status_code == 302
    assert _login(client, "root-admin", second).status_code == 401
    with loaded_app.app_context(), Session(engine()) as s:
        actions = {r.action for r in s.exec(select(AuditRecord).where(AuditRecord.object_kind == "user"))}
    assert {"user.role_granted", "user.login"} <= actions


# ---------------------------------------------------------------- route × role
PAGE_PREFIXES = ("/api/", "/open311/", "/static/")
UNGUARDED = {"healthz", "readyz", "static"}


def _page_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PAGE_PREFIXES) or rule.endpoint in UNGUARDED:
            continue
        yield rule


def test_every_page_declares_who_may_open_it(loaded_app):
    undeclared = [
        rule.rule
        for rule in _page_rules(loaded_app)
        if not (
            getattr(loaded_app.view_functions[rule.endpoint], "public", False)
            or getattr(loaded_app.view_functions[rule.endpoint], "required_permission", None)
        )
    ]
    assert undeclared == []


def _fill(rule, values: dict[str, str]) -> str:
    """The rule's URL with real objects; `endpoint:argument` overrides an argument for one route."""
    path = rule.rule
    for name in rule.arguments:
        value = values.get(f"{rule.endpoint}:{name}", values.get(name))
        path = re.sub(rf"<(?:[^:>]+:)?{name}>", value, path)
    return path


@pytest.fixture
def objects(loaded_app):
    message = _message(loaded_app)
    report = loaded_app.test_client().post(
        "/api/v1/kondinsky/reports/rating/generate?period=2026-03", headers=_token(loaded_app, "kondinsky")
    )
    roadmap = loaded_app.test_client().post(
        "/api/v1/kondinsky/roadmaps",
        headers=_token(loaded_app, "kondinsky"),
        json={"kind": "plan", "block": "roads", "period": "2026-11"},
    )
    assert roadmap.status_code == 201, roadmap.get_json()
    return {
        "roadmap_id": roadmap.get_json()["id"],
        "action": "agree",
        "roadmap_pages.document_page:fmt": "docx",
        "tenant": "kondinsky",
        "region": "khmao",
        "message_id": message["id"],
        "report_uuid": report.get_json()["id"],
        "report_id": "rating",
        "fmt": "csv",
        "token": "x" * 32,
        "login": "x",
        "op": "grant",
    }


def test_every_page_answers_every_role_as_the_matrix_says(loaded_app, objects):
    from mcu.auth.permissions import _load

    matrix = _load(loaded_app.config["RULES_DIR"] + "/access/permissions.yaml")
    rules = list(_page_rules(loaded_app))
    checked = 0
    for kind in matrix.role_names:
        if kind == PLATFORM_ADMIN:
            user = make_user(loaded_app, f"u-{kind}", admin=True)
        elif kind == REGIONAL_ANALYST:
            user = make_user(loaded_app, f"u-{kind}", region="khmao")
        else:
            user = make_user(loaded_app, f"u-{kind}", grants=(("kondinsky", kind),))
        client = sign_in(loaded_app.test_client(), user)
        granted = matrix.granted({kind})
        for rule in rules:
            view = loaded_app.view_functions[rule.endpoint]
            if rule.endpoint in ("auth.login", "auth.logout"):
                continue
            path = _fill(rule, objects)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                # POSTs go without a CSRF token: the guard answers before the form is read, and
                # nothing is changed either way.
                status = client.open(path, method=method, data={}).status_code
                if getattr(view, "public", False):
                    assert status != 403, (kind, method, path, status)
                    continue
                if view.required_permission in granted:
                    assert status in ((200,) if method == "GET" else (400,)), (kind, method, path, status)
                else:
                    assert status == 403, (kind, method, path, status)
                checked += 1
    assert checked >= 15 * len(matrix.role_names)  # 17 guarded page routes today


def test_the_curator_administers_the_districts_users_on_the_page(loaded_app):
    curator = staff_client(loaded_app, grants=(("kondinsky", "mcu_curator"),))
    token = csrf(curator, "/t/kondinsky/users")
    made = curator.post(
        "/t/kondinsky/users",
        data={
            "csrf_token": token,
            "login": "Petrova",
            "full_name": "Петрова А. С.",
            "role": "mcu-coordinator",
        },
    )
    html = made.get_data(as_text=True)
    assert made.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    newcomer = loaded_app.test_client()
    assert _login(newcomer, "petrova", password).status_code == 302
    assert newcomer.get("/t/kondinsky/messages").status_code == 200

    def change(op: str, **form):
        return curator.post(f"/t/kondinsky/users/petrova/{op}", data={"csrf_token": token, **form})

    assert change("grant", role="nope").status_code == 422
    assert change("grant", role="legal_reviewer").status_code == 302
    assert change("disable").status_code == 302
    assert newcomer.get("/t/kondinsky/messages").status_code == 302  # disabled: logged out
    assert change("enable").status_code == 302
    reset = change("reset")
    fresh = re.search(r'<code class="secret">([^<]+)</code>', reset.get_data(as_text=True)).group(1)
    assert _login(newcomer, "petrova", fresh).status_code == 302
    # An account that also works in another district is the platform admin's to change.
    make_user(loaded_app, "both", grants=(("kondinsky", "mcu_operator"), ("sovetsky", "mcu_head")))
    refused = curator.post("/t/kondinsky/users/both/disable", data={"csrf_token": token})
    assert refused.status_code == 403 and "других районах" in refused.get_data(as_text=True)
    # Nobody of another district can even see the account.
    assert curator.post("/t/kondinsky/users/nobody/disable", data={"csrf_token": token}).status_code == 404
    with loaded_app.app_context(), Session(engine()) as s:
        done = [r.action for r in s.exec(select(AuditRecord).where(AuditRecord.object_id == "petrova"))]
    assert {"user.role_granted", "user.disabled", "user.enabled", "user.password_reset"} <= set(done)


# ---------------------------------------------------------------- tenant isolation
def test_a_user_of_another_district_finds_nothing_on_any_page(loaded_app, objects):
    """Walk every page of Кондинский with its real objects as the curator of Некрасовский
    (another region too): every one is a 404, as if the district did not exist."""
    client = staff_client(loaded_app, grants=(("nekrasovsky", "mcu_curator"),))
    walked = 0
    for rule in _page_rules(loaded_app):
        if not ({"tenant", "region"} & set(rule.arguments)):
            continue
        path = _fill(rule, objects)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            view = loaded_app.view_functions[rule.endpoint]
            status = client.open(path, method=method, data={}).status_code
            if getattr(view, "public", False):
                continue  # the public reception and rating forms are everyone's
            assert status == 404, (method, path, status)
            walked += 1
    assert walked >= 15
    # Its own district's objects of the same kinds answer: the 404s are the boundary.
    own = _message(loaded_app, "nekrasovsky", channel="pos", block=None)
    assert client.get(f"/t/nekrasovsky/messages/{own['id']}").status_code == 200
    # The same id under the curator's own district is not found either.
    assert client.get(f"/t/nekrasovsky/messages/{objects['message_id']}").status_code == 404


# ---------------------------------------------------------------- work a message
def test_a_coordinator_works_a_message_from_arrival_to_answer(loaded_app):
    message = _message(loaded_app, block=None, text="Прошу разобраться")  # unclassified: triage
    client = staff_client(loaded_app, grants=(("kondinsky", "mcu_coordinator"),))
    inbox = client.get("/t/kondinsky/messages?state=triage").get_data(as_text=True)
    assert message["number"] in inbox
    card = f"/t/kondinsky/messages/{message['id']}"
    token = csrf(client, card)

    def act(**form):
        response = client.post(f"{card}/action", data={"csrf_token": token, **form})
        assert response.status_code == 302
        return client.get(card).get_data(as_text=True)

    page = act(action="classify", block="roads", reason="яма — дороги")
    assert "Классифицировать (отраслевой блок) — выполнено" in page and "Дороги" in page
    head = next(iter(_positions(loaded_app, "kondinsky")))
    page = act(action="assign", position=head)
    assert "назначен исполнитель" in page
    page = act(action="answer", text="Яма заделана 05.12")
    assert "дан ответ" in page and "Ответить по существу — выполнено" in page
    refused = act(action="start")
    assert "Не выполнено: действие «start» невозможно" in refused
    with loaded_app.app_context(), Session(engine()) as s:
        actions = [r.action for r in s.exec(select(AuditRecord).where(AuditRecord.object_kind == "message"))]
    assert actions == ["message.classify", "message.assign", "message.answer"]


def _positions(app, slug):
    from mcu.tenancy.queries import current_config, tenant_by_slug

    with app.app_context(), Session(engine()) as s:
        return list(current_config(s, tenant_by_slug(s, slug)).roster)


def test_bulk_assignment_reports_what_it_did(loaded_app):
    first, second = _message(loaded_app, text="Яма 1"), _message(loaded_app, text="Яма 2")
    client = staff_client(loaded_app, grants=(("kondinsky", "mcu_coordinator"),))
    token = csrf(client, "/t/kondinsky/messages")
    head = _positions(loaded_app, "kondinsky")[2]
    response = client.post(
        "/t/kondinsky/messages/bulk",
        data={"csrf_token": token, "action": "assign", "position": head, "ids": [first["id"], second["id"]]},
    )
    assert response.status_code == 302
    page = client.get("/t/kondinsky/messages").get_data(as_text=True)
    assert "Назначить исполнителя: выполнено для 2 из 2." in page
    without = client.post("/t/kondinsky/messages/bulk", data={"action": "assign", "ids": [first["id"]]})
    assert without.status_code == 400  # no CSRF token


# ---------------------------------------------------------------- personal data, untrusted text
def test_personal_data_is_masked_for_roles_without_need_and_every_view_is_audited(loaded_app):
    message = _message(
        loaded_app,
        citizen={
            "full_name": "Петрова Анна Сергеевна",
            "phone": "+7 912 345-67-89",
            "email": "anna@example.ru",
        },
    )
    card = f"/t/kondinsky/messages/{message['id']}"
    media = staff_client(loaded_app, grants=(("kondinsky", "media_officer"),))
    masked = media.get(card).get_data(as_text=True)
    assert "Петрова" not in masked and "345-67-89" not in masked and "anna@" not in masked
    assert "П•••••• А••• С••••••••" in masked and "a•••@example.ru" in masked and "•89" in masked

    operator = staff_client(loaded_app, grants=(("kondinsky", "mcu_operator"),))
    full = operator.get(card).get_data(as_text=True)
    assert "Петрова Анна Сергеевна" in full and "+7 912 345-67-89" in full
    curator = staff_client(loaded_app, grants=(("kondinsky", "mcu_curator"),))
    audit = curator.get("/t/kondinsky/audit?action=citizen.").get_data(as_text=True)
    assert audit.count("citizen.personal_data_viewed") == 1 and message["number"] in audit
    assert operator.get("/t/kondinsky/audit").status_code == 403


@pytest.mark.parametrize("path", ["/t/kondinsky/messages?state=all", "/t/kondinsky/messages/{id}"])
def test_a_hostile_post_is_shown_as_text_under_a_strict_csp(loaded_app, path):
    message = _message(loaded_app, channel="pos", text=XSS, subject=XSS, address=XSS)
    client = staff_client(loaded_app, grants=(("kondinsky", "mcu_coordinator"),))
    response = client.get(path.format(id=message["id"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_dates_are_shown_on_the_districts_clock(loaded_app):
    message = _message(loaded_app, received_at="2026-11-30T20:30:00+00:00")  # 01.12 01:30 in ХМАО (UTC+5)
    client = staff_client(loaded_app, grants=(("kondinsky", "mcu_coordinator"),))
    html = client.get(f"/t/kondinsky/messages/{message['id']}").get_data(as_text=True)
    assert "01.12.2026 01:30" in html
    nekr = _message(loaded_app, "nekrasovsky", received_at="2026-11-30T20:30:00+00:00", block=None)
    other = staff_client(loaded_app, grants=(("nekrasovsky", "mcu_coordinator"),))
    assert "30.11.2026 23:30" in other.get(f"/t/nekrasovsky/messages/{nekr['id']}").get_data(as_text=True)


def test_unknown_user_and_unknown_ids_leak_nothing(loaded_app):
    client = staff_client(loaded_app, grants=(("kondinsky", "mcu_coordinator"),))
    assert client.get(f"/t/kondinsky/messages/{uuid.uuid4()}").status_code == 404
    anonymous = loaded_app.test_client()
    assert _login(anonymous, "nobody", "whatever-123").status_code == 401


# ---------------------------------------------------------------- roadmaps on the page
def test_a_roadmap_is_drawn_up_signed_in_order_and_carried_out_on_the_pages(loaded_app):
    """Кондинский: СОГЛАСОВАНО by the deputy head for the block, then УТВЕРЖДАЮ by the МЦУ
    curator (Регламент Прил. 1), each from their own position; then a measure is carried out."""
    head = staff_client(loaded_app, grants=(("kondinsky", "mcu_head"),))
    token = csrf(head, "/t/kondinsky/roadmaps")
    made = head.post(
        "/t/kondinsky/roadmaps", data={"csrf_token": token, "block": "roads", "period": "2026-11"}
    )
    assert made.status_code == 302
    card = made.headers["Location"]
    head.post(
        f"{card}/measure",
        data={"csrf_token": token, "title": "Ямочный ремонт ул. Ленина", "executor": "МКУ УКС"},
    )
    page = head.get(card).get_data(as_text=True)
    assert "Ямочный ремонт ул. Ленина" in page and "проект" in page, re.findall(
        r"class=\"flash\"[^>]*>([^<]+)", page
    )
    early = head.post(f"{card}/approve", data={"csrf_token": token})
    assert "сначала дорожную карту согласовывают" in head.get(early.headers["Location"]).get_data(
        as_text=True
    )

    deputy = staff_client(
        loaded_app, grants=(("kondinsky", "block_curator"),), positions={"kondinsky": "deputy-heads"}
    )
    assert deputy.post(f"{card}/agree", data={"csrf_token": csrf(deputy, card)}).status_code == 302
    curator = staff_client(
        loaded_app, grants=(("kondinsky", "mcu_curator"),), positions={"kondinsky": "first-deputy-head"}
    )
    curator_token = csrf(curator, card)
    wrong = curator.post(f"{card}/approve", data={"csrf_token": curator_token, "position": "deputy-heads"})
    assert "только от своей должности" in curator.get(wrong.headers["Location"]).get_data(as_text=True)
    assert curator.post(f"{card}/approve", data={"csrf_token": curator_token}).status_code == 302
    page = curator.get(card).get_data(as_text=True)
    assert "УТВЕРЖДАЮ" in page and "Первый заместитель главы Кондинского района" in page
    assert "Добавить мероприятие" not in page  # read-only once approved
    measure = re.search(r'name="measure" value="([0-9a-f-]{36})"', page).group(1)
    done = curator.post(
        f"{card}/done", data={"csrf_token": curator_token, "measure": measure, "evidence": "акт № 12"}
    )
    assert "акт № 12" in curator.get(done.headers["Location"]).get_data(as_text=True)
    docx = curator.get(f"{card}/document.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    assert (
        staff_client(loaded_app, grants=(("kondinsky", "media_officer"),))
        .post(f"{card}/amend", data={"csrf_token": curator_token})
        .status_code
        == 403
    )
