"""The staff UI in a real browser: Playwright driving Debian's Chromium, headless.

Runs when /usr/bin/chromium is installed (`apt-get install chromium`, see the README); skipped,
with the reason, otherwise. Screenshots of the main screens are written to
test-artifacts/screenshots/ (MCU_ARTIFACTS_DIR overrides) for people to look at.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import PASSWORD, make_user

CHROMIUM = os.environ.get("MCU_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("MCU_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts"))

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api")

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>Яма у школы'


@pytest.fixture
def server(loaded_app):
    """The app on a loopback port, in a thread of this process (the same database as the test)."""
    httpd = make_server("127.0.0.1", 0, loaded_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()


def _shot(page, name: str) -> None:
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _post(app, text: str, **body) -> dict:
    runner, client = app.test_cli_runner(), app.test_client()
    token = runner.invoke(args=["tokens", "create", "--tenant", "kondinsky"]).stdout.split()[0]
    response = client.post(
        "/api/v1/kondinsky/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={"channel": "pos", "text": text, **body},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _log_in(page, server: str, login: str, goto: str) -> None:
    page.goto(f"{server}{goto}")
    assert "/login" in page.url  # not logged in yet: sent to the form
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(f"{server}{goto}")


def test_log_in_triage_a_message_to_its_answer_and_see_the_dashboard(loaded_app, server, page):
    message = _post(loaded_app, "Прошу разобраться с вопросом")  # no block recognised: triage
    make_user(loaded_app, "koord", grants=(("kondinsky", "mcu_coordinator"),))

    page.goto(f"{server}/login")
    _shot(page, "01-login")
    _log_in(page, server, "koord", "/t/kondinsky/messages?state=triage")
    assert page.get_by_role("heading", name="Входящие сообщения").is_visible()
    _shot(page, "02-inbox")

    page.get_by_role("link", name=message["number"]).click()
    page.wait_for_url(f"**/messages/{message['id']}")
    assert "новое (на сортировке)" in page.inner_text("h1")
    _shot(page, "03-message-card")

    def act(summary: str, **fields: str) -> None:
        box = page.locator("details", has=page.locator("summary", has_text=summary))
        if box.get_attribute("open") is None:
            box.locator("summary").click()
        for label, value in fields.items():
            control = box.get_by_label(label)
            if control.evaluate("e => e.tagName") == "SELECT":
                control.select_option(label=value)
            else:
                control.fill(value)
        box.get_by_role("button").click()
        page.wait_for_selector(".flash")

    act("Классифицировать (отраслевой блок)", Блок="Дороги")
    assert "выполнено" in page.inner_text(".flash")
    act("Назначить исполнителя")
    assert "назначен исполнитель" in page.inner_text("h1")
    act("Ответить по существу", **{"Текст ответа": "Вопрос решён, ответ направлен заявителю"})
    assert "дан ответ" in page.inner_text("h1")
    timeline = page.inner_text("ol.timeline")
    assert "Классифицировать" in timeline and "Ответить по существу" in timeline
    _shot(page, "04-message-answered")

    page.goto(f"{server}/t/kondinsky/dashboard")
    assert page.get_by_role("heading").first.is_visible()
    assert "Тепловая карта" in page.content()
    _shot(page, "05-dashboard")
    page.goto(f"{server}/t/kondinsky/emergencies")
    _shot(page, "06-emergencies")
    page.goto(f"{server}/t/kondinsky/roadmaps")
    assert page.get_by_role("heading", name="Дорожные карты", exact=True).is_visible()
    _shot(page, "06b-roadmaps")


def test_a_hostile_post_is_inert_in_the_inbox_and_the_card(loaded_app, server, page):
    message = _post(loaded_app, HOSTILE, block="roads", subject=HOSTILE)
    make_user(loaded_app, "koord", grants=(("kondinsky", "mcu_coordinator"),))
    _log_in(page, server, "koord", "/t/kondinsky/messages")
    for path in ("/t/kondinsky/messages", f"/t/kondinsky/messages/{message['id']}"):
        page.goto(f"{server}{path}")
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("img[src=x]").count() == 0
        assert "<script>window.__xss=2</script>" in page.inner_text("main")  # shown as text
    assert page.dialogs == []  # type: ignore[attr-defined]
    _shot(page, "07-hostile-post-card")


def test_a_user_without_roles_there_sees_no_district(loaded_app, server, page):
    make_user(loaded_app, "nekr", grants=(("nekrasovsky", "mcu_curator"),))
    _log_in(page, server, "nekr", "/t/nekrasovsky/")
    page.goto(f"{server}/")
    assert "Некрасовский" in page.inner_text("main") and "Кондинский" not in page.inner_text("main")
    response = page.goto(f"{server}/t/kondinsky/messages")
    assert response.status == 404


def test_a_legal_reviewer_reads_the_spec_book(loaded_app, server, page):
    make_user(loaded_app, "lawyer", grants=(("khanty-mansiysky", "legal_reviewer"),))
    _log_in(page, server, "lawyer", "/t/khanty-mansiysky/specs")
    assert "Книга спецификаций" in page.inner_text("h1")
    assert page.locator("table.book tr").count() > 50
    _shot(page, "08-spec-book")
