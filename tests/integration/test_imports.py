"""Bulk import of messages: parsing, the import operation, `mcu import` and POST …/imports.

Every imported row goes through the same intake as an API message, so the checks here are that
each one ends up stored once, classified, routed and with a due date — and that a bad row is
reported by its number without costing the good ones.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import func, select

from mcu.messages.imports import XLSX_MIME, ImportFileError, import_file, load_mappings, mapping_for_channel
from mcu.messages.models import Citizen, Deadline, Event, Message
from tests.conftest import ON_POSTGRES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
REPO = Path(__file__).resolve().parents[2]
SLUG = "kondinsky"
OPEN_STATUSES = {"assigned", "classified", "new"}


# ---------------------------------------------------------------- helpers
def _config(app, slug=SLUG):
    from mcu.db import session_scope
    from mcu.tenancy.queries import current_config, tenant_by_slug

    with app.app_context(), session_scope() as session:
        return current_config(session, tenant_by_slug(session, slug))


def _channel(app, kind, slug=SLUG):
    """The tenant's channel of a kind: ids differ between tenants, kinds do not."""
    return next(c["id"] for c in _config(app, slug).channels.values() if c["kind"] == kind)


def _import(app, source, fmt, *, kind=None, channel=None, slug=SLUG, **kw):
    from mcu.db import session_scope

    config = _config(app, slug)
    channel = channel or _channel(app, kind, slug)
    with app.app_context(), session_scope() as session:
        return import_file(
            session=session,
            config=config,
            channel_id=channel,
            source=source,
            fmt=fmt,
            actor="test:import",
            rules_dir=REPO / "rules",
            **kw,
        )


def _messages(app, channel=None):
    from mcu.db import session_scope

    with app.app_context(), session_scope() as session:
        query = select(Message).order_by(Message.received_at)
        if channel:
            query = query.where(Message.channel_id == channel)
        return list(session.exec(query))


def _count(app, model):
    from mcu.db import session_scope

    with app.app_context(), session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _assert_processed(app, messages):
    """Each message went through intake: classified (or sent to triage), routed, given a due date."""
    from mcu.db import session_scope

    assert messages
    with app.app_context(), session_scope() as session:
        for m in messages:
            assert m.status in OPEN_STATUSES, (m.external_id, m.status)
            assert m.due_at is not None and m.classification
            assert session.exec(
                select(Deadline).where(Deadline.message_id == m.id, Deadline.timer == "answer")
            ).first()
            kinds = {e.kind for e in session.exec(select(Event).where(Event.subject_id == m.id))}
            assert {"received", "deadline_set"} <= kinds
            assert kinds & {"classified", "sent_to_triage"}
    assert any(m.status == "assigned" for m in messages), "routing assigned nothing"


def _token(runner, slug=SLUG):
    result = runner.invoke(args=["tokens", "create", "--tenant", slug, "--name", "import-test"])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0].strip()


# ---------------------------------------------------------------- mappings
def test_every_mapping_loads_and_each_source_kind_has_its_own(loaded_app):
    mappings, problems = load_mappings(REPO / "rules")
    assert problems == []
    assert set(mappings) == {"pos", "im", "edds", "sed", "generic"}
    expected = {
        "pos": "pos",
        "incident_management": "im",
        "edds": "edds",
        "sed": "sed",
        "appeal_written": "generic",
        "site_reception": "generic",
    }
    for kind, mapping_id in expected.items():
        assert mapping_for_channel(REPO / "rules", {"kind": kind}).id == mapping_id


def test_a_broken_mapping_stops_the_import_before_anything_is_stored(loaded_app, tmp_path):
    rules = tmp_path / "rules"
    (rules / "import").mkdir(parents=True)
    for path in (REPO / "rules" / "import").glob("*.yaml"):
        (rules / "import" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (rules / "import" / "pos.yaml").write_text(
        "id: pos\nchannel_kinds: [pos]\ncolumns:\n  txt: [Текст]\n", encoding="utf-8"
    )
    config = _config(loaded_app)
    from mcu.db import session_scope

    with loaded_app.app_context(), session_scope() as session, pytest.raises(ImportFileError) as err:
        import_file(
            session=session,
            config=config,
            channel_id=_channel(loaded_app, "pos"),
            source=FIXTURES / "pos.csv",
            fmt="csv",
            actor="test",
            rules_dir=rules,
        )
    assert "rules/import/pos.yaml:4:3" in str(err.value) and "txt" in str(err.value)
    assert _count(loaded_app, Message) == 0


# ---------------------------------------------------------------- formats
def test_pos_csv_in_utf8_is_imported_classified_and_routed(loaded_app):
    pos = _channel(loaded_app, "pos")
    report = _import(loaded_app, FIXTURES / "pos.csv", "csv", kind="pos")
    assert (report.total, report.created, report.existing, report.rejected) == (8, 8, 0, [])
    assert report.encoding == "utf-8" and report.mapping == "rules/import/pos.yaml"
    messages = _messages(loaded_app, pos)
    assert len(messages) == 8
    _assert_processed(loaded_app, messages)
    first = messages[0]
    # «03.03.2025 09:14» without a zone is the district's time (Asia/Yekaterinburg, UTC+5).
    assert first.received_at == datetime(2025, 3, 3, 4, 14, tzinfo=UTC)
    assert first.external_id == "POS-2025-118401" and first.settlement_id == "mezhdurechensky"
    assert (first.latitude, first.longitude) == (59.6012, 65.9321)  # «59,6012»: decimal comma
    lights = next(m for m in messages if m.external_id == "POS-2025-118460")
    assert lights.text.startswith("Не горят уличные фонари на всей улице.\nВечером")  # quoted line break
    # An unknown settlement is a warning, not a rejection.
    (warning,) = report.warnings
    assert warning.row == 10 and "«Новоселье» не найдено" in warning.reasons[0]
    assert next(m for m in messages if m.external_id == "POS-2025-118612").settlement_id is None


def test_edds_csv_in_cp1251_is_read_with_date_and_time_columns(loaded_app):
    edds = _channel(loaded_app, "edds")
    report = _import(loaded_app, FIXTURES / "edds_cp1251.csv", "csv", kind="edds")
    assert report.encoding == "cp1251"
    assert any("cp1251" in note for note in report.notes)
    assert (report.total, report.created, report.rejected) == (6, 6, [])
    messages = _messages(loaded_app, edds)
    _assert_processed(loaded_app, messages)
    first = messages[0]
    assert first.text.startswith("Порыв водопровода") and first.address == "ул. Лесная, 14"
    assert first.received_at == datetime(2025, 2, 10, 2, 45, tzinfo=UTC)  # «10.02.2025» + «07:45», UTC+5


def _sed_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Реестр"
    # Row 1 left empty on purpose: the header is the first non-empty row.
    sheet.append([])
    sheet.append(
        [
            "Рег. №",
            "Дата поступления",
            "Дата регистрации",
            "Корреспондент",
            "Адрес",
            "Краткое содержание",
            "Тематика",
        ]
    )
    sheet.append(
        [
            10231,
            datetime(2025, 1, 17, 16, 0),
            datetime(2025, 1, 20, 10, 30),
            "Гусева Нина Павловна",
            "628200, пгт Междуреченский, ул. Лесная, 6",
            "Просит отремонтировать дорогу по ул. Лесной: после паводка размыто покрытие, проезд затруднён.",
            "Дороги",
        ]
    )
    sheet.append(
        [
            "10232",
            None,
            "21.01.2025 14:05",
            "Рябов Константин Андреевич",
            "с. Болчары, ул. Школьная, 1",
            "Просит разобраться с отсутствием отопления в квартире, в доме холодно, батареи ледяные.",
            "ЖКХ",
        ]
    )
    sheet.append([])  # a gap inside the data is skipped, row numbers stay those of the sheet
    sheet.append(
        [
            10240,
            "23.01.2025 09:40",
            "23.01.2025",
            "Мельникова Ольга",
            "пгт Кондинское",
            "Жалоба на несвоевременный вывоз мусора с контейнерной площадки у дома.",
            "ТКО",
        ]
    )
    sheet.append(
        [
            10241,
            "вчера",
            None,
            "Тихонов Юрий",
            "пгт Луговой",
            "Просит установить дорожный знак у школы.",
            "Дороги",
        ]
    )
    sheet.append([10242, datetime(2025, 1, 24, 11, 15), None, "Зуева Анна", "пгт Мортка", None, "Прочее"])
    sheet.append(
        [
            10243,
            datetime(2025, 1, 27, 10, 0),
            datetime(2025, 1, 24, 9, 0),
            "Орехов Семён",
            "пгт Луговой",
            "Просит отремонтировать крыльцо дома культуры.",
            "Культура",
        ]
    )
    book.save(path)
    return path


def test_sed_xlsx_is_imported_with_sheet_row_numbers_and_registration_dates(loaded_app, tmp_path):
    sed = _channel(loaded_app, "sed")
    report = _import(loaded_app, _sed_workbook(tmp_path / "sed.xlsx"), "xlsx", kind="sed")
    assert (report.total, report.created, report.existing) == (6, 3, 0)
    reasons = {r.row: " ".join(r.reasons) for r in report.rejected}
    assert set(reasons) == {7, 8, 9}
    assert "«вчера» не распознана как дата" in reasons[7]
    assert "Текст сообщения (столбец «Краткое содержание»): пусто" in reasons[8]
    assert "Дата регистрации: дата регистрации раньше даты поступления" in reasons[9]
    messages = _messages(loaded_app, sed)
    _assert_processed(loaded_app, messages)
    assert [m.external_id for m in messages] == ["10231", "10232", "10240"]  # 10231.0 is not an id
    late, only_registered, same_day = messages
    assert late.received_at == datetime(2025, 1, 17, 11, 0, tzinfo=UTC)
    assert late.registered_at == datetime(2025, 1, 20, 5, 30, tzinfo=UTC)
    assert (late.due_at - late.registered_at).days >= 29  # 59-ФЗ: 30 days from registration, not receipt
    assert (
        only_registered.received_at
        == only_registered.registered_at
        == datetime(2025, 1, 21, 9, 5, tzinfo=UTC)
    )
    assert same_day.registered_at == same_day.received_at  # «23.01.2025» is not midnight before 09:40
    from mcu.db import session_scope

    with loaded_app.app_context(), session_scope() as session:
        citizen = session.get(Citizen, (late.tenant_id, late.citizen_id))
        assert citizen.full_name == "Гусева Нина Павловна"
        assert citizen.postal_address.startswith("628200")  # СЭД «Адрес» is where to send the answer


def test_im_json_with_items_keeps_the_post_link_in_the_text(loaded_app):
    im = _channel(loaded_app, "incident_management")
    report = _import(loaded_app, FIXTURES / "im.json", "json", kind="incident_management")
    assert (report.total, report.created, report.rejected) == (5, 5, [])
    assert report.ignored_columns == ["Соцсеть"]
    messages = _messages(loaded_app, im)
    _assert_processed(loaded_app, messages)
    assert messages[0].text.endswith("Ссылка на пост: https://vk.com/wall-123456_7701")
    assert messages[0].external_id == "IM-775120"


def test_generic_json_list_with_nested_citizen_for_a_written_appeal(loaded_app):
    written = _channel(loaded_app, "appeal_written")
    report = _import(loaded_app, FIXTURES / "appeals.json", "json", kind="appeal_written")
    assert report.mapping == "rules/import/generic.yaml"
    assert (report.total, report.created, report.rejected) == (3, 3, [])
    messages = _messages(loaded_app, written)
    _assert_processed(loaded_app, messages)
    assert all(m.regime == "appeal" for m in messages)
    assert messages[0].settlement_id == "kondinskoe" and messages[1].settlement_id == "shugur"
    assert _count(loaded_app, Citizen) == 3


# ---------------------------------------------------------------- idempotence, bad rows, bad files
def test_the_same_import_twice_stores_every_message_once(loaded_app):
    first = _import(loaded_app, FIXTURES / "pos.csv", "csv", kind="pos")
    events = _count(loaded_app, Event)
    second = _import(loaded_app, FIXTURES / "pos.csv", "csv", kind="pos")
    assert (first.created, first.existing) == (8, 0)
    assert (second.total, second.created, second.existing, second.rejected) == (8, 0, 8, [])
    assert len(_messages(loaded_app)) == 8
    assert _count(loaded_app, Event) == events  # a replay writes nothing


def test_rows_without_number_or_date_are_still_stored_once(loaded_app):
    body = "text;address\nНе убран снег во дворе дома;ул. Мира, 3\nНет света в подъезде;ул. Мира, 5\n"
    for _ in range(2):
        report = _import(loaded_app, body.encode(), "csv", kind="appeal_written")
    assert (report.created, report.existing) == (0, 2)
    assert len(_messages(loaded_app)) == 2
    assert "принята дата импорта" in report.warnings[0].reasons[0]


def test_malformed_rows_are_reported_by_number_and_the_good_rows_stored(loaded_app):
    pos = _channel(loaded_app, "pos")
    report = _import(loaded_app, FIXTURES / "malformed.csv", "csv", kind="pos")
    assert (report.total, report.created, report.existing) == (7, 3, 0)
    reasons = {r.row: " ".join(r.reasons) for r in report.rejected}
    assert set(reasons) == {3, 4, 5, 7}  # file lines: the header is line 1
    assert "Текст сообщения: пусто" in reasons[3]
    assert "«31.02.2025 11:00» не распознана как дата" in reasons[4]
    assert "строка повреждена" in reasons[5] and "кавычки" in reasons[5]
    assert "«завтра» не распознана как дата" in reasons[7]
    # The unclosed quote on line 5 did not swallow lines 6–8.
    assert [m.external_id for m in _messages(loaded_app, pos)] == ["M-1", "M-5", "M-7"]


def test_a_row_in_broken_encoding_is_rejected_the_rest_of_the_file_imported(loaded_app):
    good = "Номер\tДата поступления\tТекст сообщения\nE-1\t01.03.2025 10:00\tНе работает светофор на перекрёстке\n"
    bad = b"E-2\t01.03.2025 11:00\t" + "Разбита дорога у магазина\n".encode("cp1251")
    more = "E-3\t01.03.2025 12:00\tНе вывезен мусор у дома 7\nE-4\t01.03.2025 13:00\tОткрыт люк на тротуаре\n"
    report = _import(loaded_app, good.encode() + bad + more.encode(), "csv", kind="pos")  # tab-delimited
    assert (report.total, report.created) == (4, 3)
    (rejected,) = report.rejected
    assert rejected.row == 3 and "битая кодировка" in rejected.reasons[0]
    assert report.encoding == "utf-8"


def test_a_row_rejected_by_intake_does_not_poison_the_others(loaded_app):
    future = (
        "ID сообщения;Дата поступления;Текст сообщения\nF-1;01.03.2025 10:00;Яма на дороге\n"
        "F-2;01.01.2099 10:00;Сообщение из будущего\nF-3;02.03.2025 10:00;Не вывозят мусор\n"
    )
    report = _import(loaded_app, future.encode(), "csv", kind="pos", batch_size=1)
    assert report.created == 2
    (rejected,) = report.rejected
    assert rejected.row == 3 and "в будущем" in rejected.reasons[0]


def test_a_row_failing_half_way_leaves_nothing_behind(loaded_app, monkeypatch):
    from mcu.messages import imports

    real = imports.receive_message

    def failing(**kw):
        result = real(**kw)  # the message, its events, deadline and assignment are written…
        if "мусор" in kw["data"].text:
            raise RuntimeError("simulated failure after intake")  # …and must all be undone
        return result

    monkeypatch.setattr(imports, "receive_message", failing)
    report = _import(loaded_app, FIXTURES / "pos.csv", "csv", kind="pos")
    assert (report.created, len(report.rejected)) == (7, 1)
    assert report.rejected[0].row == 4 and "внутренняя ошибка" in report.rejected[0].reasons[0]
    assert len(_messages(loaded_app)) == 7
    assert _count(loaded_app, Deadline) == 7
    assert _count(loaded_app, Citizen) == 7


@pytest.mark.parametrize(
    ("content", "fmt", "expected"),
    [
        (b'[{"text": "\xd0\xaf\xd0\xbc\xd0\xb0", ', "json", "JSON не читается"),
        (b'{"messages": []}', "json", "ожидается JSON-массив"),
        (b"PK\x03\x04 this is not a workbook", "xlsx", "не читается как книга Excel"),
        (
            "Номер;Дата поступления;Адрес\n1;01.03.2025 10:00;ул. Мира\n".encode(),
            "csv",
            "нет нужных столбцов",
        ),
        (b"", "csv", "файл пуст"),
    ],
)
def test_a_file_that_cannot_be_read_stores_nothing(loaded_app, content, fmt, expected):
    with pytest.raises(ImportFileError) as err:
        _import(loaded_app, content, fmt, kind="pos")
    assert expected in str(err.value)
    assert _count(loaded_app, Message) == 0


def test_an_unknown_channel_is_an_error_before_anything_is_stored(loaded_app):
    with pytest.raises(ImportFileError) as err:
        _import(loaded_app, FIXTURES / "pos.csv", "csv", channel="telegraph")
    assert err.value.field == "channel" and "«telegraph» не настроен" in str(err.value)
    assert _count(loaded_app, Message) == 0


# ---------------------------------------------------------------- CLI
def test_cli_imports_with_a_summary_and_exit_0(loaded_app):
    runner = loaded_app.test_cli_runner()
    pos = _channel(loaded_app, "pos")
    args = ["import", str(FIXTURES / "pos.csv"), "--tenant", SLUG, "--channel", pos]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Создано сообщений: 8" in result.stdout and "Файл обработан полностью" in result.stdout
    assert "Импорт" in result.stderr  # the progress bar
    again = runner.invoke(args=args)
    assert again.exit_code == 0
    assert "Создано сообщений: 0" in again.stdout and "Уже были загружены ранее: 8" in again.stdout


def test_cli_lists_rejected_rows_and_writes_them_to_a_report(loaded_app, tmp_path):
    runner = loaded_app.test_cli_runner()
    rejects = tmp_path / "rejected.csv"
    source = FIXTURES / "malformed.csv"
    result = runner.invoke(
        args=[
            "import",
            str(source),
            "--tenant",
            SLUG,
            "--channel",
            _channel(loaded_app, "pos"),
            "--report",
            str(rejects),
        ]
    )
    assert result.exit_code == 0, result.output  # processed, although with rejected rows
    assert "Отклонено: 4" in result.stdout and "часть строк отклонена" in result.stdout
    assert f"{source}:3: Текст сообщения: пусто" in result.stderr
    assert f"{source}:7: Дата поступления: «завтра»" in result.stderr
    with rejects.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert [r["Строка"] for r in rows] == ["3", "4", "5", "7"]
    assert rows[0]["Номер"] == "M-2" and "пусто" in rows[0]["Причины"]


def test_cli_cp1251_says_so(loaded_app):
    result = loaded_app.test_cli_runner().invoke(
        args=[
            "import",
            str(FIXTURES / "edds_cp1251.csv"),
            "--tenant",
            SLUG,
            "--channel",
            _channel(loaded_app, "edds"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Windows-1251 (cp1251)" in result.stdout


def test_cli_exit_1_when_nothing_can_be_imported(loaded_app, tmp_path):
    runner = loaded_app.test_cli_runner()
    pos = _channel(loaded_app, "pos")
    csv_file = str(FIXTURES / "pos.csv")
    unknown_tenant = runner.invoke(args=["import", csv_file, "--tenant", "atlantis", "--channel", pos])
    assert unknown_tenant.exit_code == 1 and "«atlantis» не загружен" in unknown_tenant.stderr
    unknown_channel = runner.invoke(args=["import", csv_file, "--tenant", SLUG, "--channel", "telegraph"])
    assert unknown_channel.exit_code == 1 and "«telegraph» не настроен" in unknown_channel.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"items": [', encoding="utf-8")
    unreadable = runner.invoke(args=["import", str(broken), "--tenant", SLUG, "--channel", pos])
    assert unreadable.exit_code == 1 and "Ничего не импортировано" in unreadable.stderr
    no_format = runner.invoke(
        args=["import", str(tmp_path / "export.dat"), "--tenant", SLUG, "--channel", pos]
    )
    assert no_format.exit_code == 1 and "--format" in no_format.stderr
    all_bad = tmp_path / "all_bad.csv"
    all_bad.write_text(
        "Номер;Дата поступления;Текст сообщения\n1;вчера;Яма\n2;01.03.2025 10:00;\n", encoding="utf-8"
    )
    rejected = runner.invoke(args=["import", str(all_bad), "--tenant", SLUG, "--channel", pos])
    assert rejected.exit_code == 1 and "Ни одна строка не импортирована" in rejected.stderr
    assert _count(loaded_app, Message) == 0


# ---------------------------------------------------------------- HTTP
def _url(app, kind="pos", slug=SLUG):
    return f"/api/v1/{slug}/imports?channel={_channel(app, kind, slug)}"


def test_api_imports_a_multipart_file(loaded_app):
    client, token = loaded_app.test_client(), _token(loaded_app.test_cli_runner())
    data = {"file": (io.BytesIO((FIXTURES / "malformed.csv").read_bytes()), "malformed.csv")}
    response = client.post(
        _url(loaded_app),
        data=data,
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["total"], body["created"], body["existing"]) == (7, 3, 0)
    assert [r["row"] for r in body["rejected"]] == [3, 4, 5, 7]
    assert "пусто" in body["rejected"][0]["reasons"][0]
    assert "values" not in body["rejected"][0]  # personal data stays out of the answer


def test_api_takes_a_raw_json_or_xlsx_body(loaded_app, tmp_path):
    client, token = loaded_app.test_client(), _token(loaded_app.test_cli_runner())
    headers = {"X-Api-Key": token}
    response = client.post(
        _url(loaded_app, "incident_management"),
        data=(FIXTURES / "im.json").read_bytes(),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200 and response.get_json()["created"] == 5
    replay = client.post(
        _url(loaded_app, "incident_management"),
        data=(FIXTURES / "im.json").read_bytes(),
        content_type="application/json",
        headers=headers,
    )
    assert replay.get_json()["existing"] == 5 and replay.get_json()["created"] == 0
    workbook = _sed_workbook(tmp_path / "sed.xlsx").read_bytes()
    response = client.post(_url(loaded_app, "sed"), data=workbook, content_type=XLSX_MIME, headers=headers)
    assert response.status_code == 200 and response.get_json()["created"] == 3
    _assert_processed(loaded_app, _messages(loaded_app))


def test_api_errors(loaded_app):
    client, token = loaded_app.test_client(), _token(loaded_app.test_cli_runner())
    auth = {"Authorization": f"Bearer {token}"}
    body = (FIXTURES / "pos.csv").read_bytes()
    assert client.post(_url(loaded_app), data=body, content_type="text/csv").status_code == 401
    unknown = client.post(
        "/api/v1/atlantis/imports?channel=pos", data=body, content_type="text/csv", headers=auth
    )
    assert unknown.status_code == 404 and unknown.get_json()["status"] == 404
    other_tenant = client.post(
        _url(loaded_app, slug="nekrasovsky"), data=body, content_type="text/csv", headers=auth
    )
    assert other_tenant.status_code == 401  # a token is good for its own tenant only
    channel = client.post(
        f"/api/v1/{SLUG}/imports?channel=telegraph", data=body, content_type="text/csv", headers=auth
    )
    assert channel.status_code == 422 and "channel" in channel.get_json()["fields"]
    no_channel = client.post(f"/api/v1/{SLUG}/imports", data=body, content_type="text/csv", headers=auth)
    assert no_channel.status_code == 422 and "channel" in no_channel.get_json()["fields"]
    no_format = client.post(
        _url(loaded_app), data=body, content_type="application/octet-stream", headers=auth
    )
    assert no_format.status_code == 422 and "format" in no_format.get_json()["fields"]
    broken = client.post(_url(loaded_app), data=b'[{"text": ', content_type="application/json", headers=auth)
    assert broken.status_code == 422 and "JSON не читается" in broken.get_json()["fields"]["file"][0]
    empty = client.post(_url(loaded_app), data=b"", content_type="text/csv", headers=auth)
    assert empty.status_code == 422 and "file" in empty.get_json()["fields"]
    assert _count(loaded_app, Message) == 0


def test_api_too_large_body_is_413(loaded_app):
    client, token = loaded_app.test_client(), _token(loaded_app.test_cli_runner())
    loaded_app.config["MAX_CONTENT_LENGTH"] = 1024
    payload = json.dumps([{"text": "Яма на дороге " * 20}] * 10, ensure_ascii=False).encode()
    response = client.post(
        _url(loaded_app, "appeal_written"),
        data=payload,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413 and response.get_json()["status"] == 413
    multipart = client.post(
        _url(loaded_app),
        data={"file": (io.BytesIO(payload), "big.json")},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert multipart.status_code == 413
    assert _count(loaded_app, Message) == 0


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="SQLite has no row locks: a writer holds the whole database, and the API's requests "
    "queue behind it whatever the token does",
)
def test_a_request_with_the_token_proceeds_while_an_import_with_it_is_open(loaded_app, monkeypatch):
    """The import has touched the token's `last_used_at` and is in the middle of its rows, its
    transaction open; a second request with the same token must not wait for that row lock."""
    import mcu.messages.imports as imports
    from mcu.auth.models import ApiToken
    from mcu.db import session_scope

    client, token = loaded_app.test_client(), _token(loaded_app.test_cli_runner())
    headers = {"Authorization": f"Bearer {token}"}
    in_import, release = threading.Event(), threading.Event()
    real_import_row = imports._import_row

    def import_row_then_pause(*args, **kwargs):
        real_import_row(*args, **kwargs)  # has queried, so the token's touch is flushed
        if not in_import.is_set():
            in_import.set()
            release.wait(60)

    monkeypatch.setattr(imports, "_import_row", import_row_then_pause)
    answers: dict[str, int] = {}

    def run_import():
        body = (FIXTURES / "pos.csv").read_bytes()
        answers["import"] = client.post(
            _url(loaded_app), data=body, content_type="text/csv", headers=headers
        ).status_code

    importer = threading.Thread(target=run_import)
    importer.start()
    try:
        assert in_import.wait(30), "the import did not start"
        other = threading.Thread(
            target=lambda: answers.__setitem__(
                "list", loaded_app.test_client().get(f"/api/v1/{SLUG}/messages", headers=headers).status_code
            )
        )
        other.start()
        other.join(20)
        waited = other.is_alive()
    finally:
        release.set()
        importer.join(60)
    other.join(60)
    assert not waited, "the second request waited for the import's lock on the token row"
    assert answers == {"list": 200, "import": 200}
    with loaded_app.app_context(), session_scope() as session:
        assert session.exec(select(ApiToken.last_used_at)).one() is not None
