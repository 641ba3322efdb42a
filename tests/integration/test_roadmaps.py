"""Roadmaps through the API: proposed from the heat map's growth, signed in the district's order,
read-only once approved, amended by a new version, carried out (feeding the KPI), judged by the
messages that followed, and printed in the decree's form; the operational roadmap of an
emergency; information campaigns."""

from __future__ import annotations

import io

import pytest

KOND = "/api/v1/kondinsky"
ROADS = [  # Кондинский, блок «Дороги» (roads): growth in October 2025, fewer in November
    "2025-09-15T10:00:00+05:00",
    "2025-10-05T10:00:00+05:00",
    "2025-10-10T10:00:00+05:00",
    "2025-10-15T10:00:00+05:00",
    "2025-10-20T10:00:00+05:00",
    "2025-11-10T10:00:00+05:00",
    "2025-11-25T10:00:00+05:00",
]


def _token(app, slug: str) -> dict[str, str]:
    plain = app.test_cli_runner().invoke(args=["tokens", "create", "--tenant", slug]).stdout.split()[0]
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def kond(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    for i, at in enumerate(ROADS):
        made = client.post(
            f"{KOND}/messages",
            headers=headers,
            json={"channel": "pos", "text": f"Яма на дороге № {i}", "received_at": at, "block": "roads"},
        )
        assert made.status_code == 201, made.get_json()
    other = client.post(
        f"{KOND}/messages",
        headers=headers,
        json={
            "channel": "pos",
            "text": "Не работает кружок в школе",
            "received_at": "2025-11-12T10:00:00+05:00",
            "block": "education",
        },
    )
    assert other.status_code == 201
    return client, headers


def _plan(client, headers) -> dict:
    made = client.post(
        f"{KOND}/roadmaps",
        headers=headers,
        json={
            "kind": "plan",
            "block": "roads",
            "period": "2025-10",
            "root_causes": "Ямочный ремонт не проведён после паводка",
            "people": {"coordinator": {"phone": "+7 900 000-00-00", "name": "Иванов И.И."}},
        },
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def _measure(client, headers, roadmap_id: str, title: str) -> dict:
    made = client.post(
        f"{KOND}/roadmaps/{roadmap_id}/measures",
        headers=headers,
        json={
            "title": title,
            "root_cause": "Ямочный ремонт не проведён после паводка",
            "expected_result": "Ямы заделаны",
            "indicator": "100 % ям на улицах из обращений",
            "executor": "Комитет по инвестициям",
            "start_date": "2025-11-01",
            "end_date": "2025-11-20",
        },
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def test_the_heat_map_proposes_the_block_that_grew_and_the_plan_takes_its_figures(kond):
    client, headers = kond
    proposed = client.get(f"{KOND}/roadmaps/proposals?period=2025-10", headers=headers).get_json()
    assert proposed["previous_period"]["key"] == "2025-09"
    first = proposed["proposals"][0]
    assert (first["block"], first["count"], first["previous_count"], first["growth_index"]) == (
        "roads",
        4,
        1,
        4.0,
    )
    roadmap = _plan(client, headers)
    assert roadmap["status"] == "draft" and roadmap["origin"] == "heatmap"
    assert roadmap["growth"]["count"] == 4 and "1 → 4" in roadmap["growth_text"]
    assert (roadmap["period_start"], roadmap["period_end"]) == ("2025-11-01", "2025-11-30")
    people = {p["slot"]: p for p in roadmap["people"]}
    assert people["curator"]["position"].startswith("Заместители главы Кондинского района")
    assert people["block_head"]["position"].startswith("Председатель комитета по инвестициям")
    assert people["coordinator"]["phone"] == "+7 900 000-00-00"
    again = client.get(f"{KOND}/roadmaps/proposals?period=2025-10", headers=headers).get_json()
    assert again["proposals"][0]["roadmap"] == roadmap["id"]
    twice = client.post(
        f"{KOND}/roadmaps", headers=headers, json={"kind": "plan", "block": "roads", "period": "2025-10"}
    )
    assert twice.status_code == 409
    for bad, field in (
        ({"period": "2025"}, "period"),
        ({"block": "space"}, "block"),
        ({"period": None}, "body"),
    ):
        refused = client.post(
            f"{KOND}/roadmaps",
            headers=headers,
            json={"kind": "plan", "block": "roads", "period": "2025-10", **bad},
        )
        assert refused.status_code == 422 and field in refused.get_json()["fields"], refused.get_json()


def test_kondinsky_agrees_then_approves_and_an_approved_roadmap_is_read_only(kond):
    client, headers = kond
    roadmap = _plan(client, headers)
    rid = roadmap["id"]
    url = f"{KOND}/roadmaps/{rid}"
    early = client.post(f"{url}/approve", headers=headers, json={})
    assert early.status_code == 409 and "СОГЛАСОВАНО" in early.get_json()["detail"]
    measure = _measure(client, headers, rid, "Ямочный ремонт улиц по обращениям")
    agreed = client.post(
        f"{url}/agree", headers=headers, json={"name": "П.П. Петров", "at": "2025-10-30T10:00:00+05:00"}
    )
    assert agreed.status_code == 200, agreed.get_json()
    body = agreed.get_json()
    assert body["status"] == "agreed" and body["agreed"]["role"] == "block-curator"
    assert body["agreed"]["by"] == "П.П. Петров" and body["agreed"]["at"].startswith("2025-10-30")
    wrong = client.post(f"{url}/approve", headers=headers, json={"position": "internal-policy-head"})
    assert wrong.status_code == 422 and "position" in wrong.get_json()["fields"]
    approved = client.post(
        f"{url}/approve", headers=headers, json={"at": "2025-10-31T10:00:00+05:00"}
    ).get_json()
    assert approved["status"] == "approved" and approved["read_only"]
    assert approved["approved"]["position"] == "Первый заместитель главы Кондинского района"
    assert approved["approved"]["by"] == "А.В. Кривоногов" and approved["approved"]["role"] == "mcu-curator"
    assert approved["approval"]["source"]["clause"] == "Регламент Прил. 1, Прил. 2"
    for method, path, payload in (
        ("PATCH", url, {"problem": "Другая проблема"}),
        ("POST", f"{url}/measures", {"title": "Ещё одно мероприятие"}),
        ("PATCH", f"{url}/measures/{measure['id']}", {"title": "Другое"}),
        ("DELETE", f"{url}/measures/{measure['id']}", {}),
        ("POST", f"{url}/agree", {}),
    ):
        response = client.open(path, method=method, headers=headers, json=payload)
        assert response.status_code == 409, (method, path, response.get_json())
    assert client.get(url, headers=headers).get_json()["problem"] == roadmap["problem"]


def test_measures_done_feed_the_kpi_and_the_effect_is_said_in_words(kond):
    client, headers = kond
    rid = _plan(client, headers)["id"]
    url = f"{KOND}/roadmaps/{rid}"
    first = _measure(client, headers, rid, "Ямочный ремонт улиц по обращениям")
    second = _measure(client, headers, rid, "Проверка подрядчика")
    too_early = client.post(f"{url}/measures/{first['id']}/done", headers=headers, json={"evidence": "акт"})
    assert too_early.status_code == 409
    client.post(f"{url}/agree", headers=headers, json={})
    client.post(f"{url}/approve", headers=headers, json={})
    done = client.post(
        f"{url}/measures/{first['id']}/done",
        headers=headers,
        json={"evidence": "Акт выполненных работ № 12", "done_at": "2025-11-20T12:00:00+05:00"},
    ).get_json()
    # The block's messages from the reporting period's start (01.10) until done: 4 + 1.
    assert done["status"] == "done" and done["messages_covered"] == 5 and done["roadmap_status"] == "approved"
    kpi = {
        k["indicator"]: k
        for k in client.get(f"{KOND}/analytics/kpi?period=2025-11", headers=headers).get_json()["indicators"]
    }
    share = kpi["roadmap_measures_share"]
    assert (share["numerator"], share["denominator"]) == (
        1,
        3,
    )  # roads 10.11 of roads 10.11, 25.11, education
    assert (
        client.post(
            f"{url}/measures/{first['id']}/done", headers=headers, json={"evidence": "ещё"}
        ).status_code
        == 409
    )
    last = client.post(
        f"{url}/measures/{second['id']}/done", headers=headers, json={"evidence": "Проверка проведена"}
    )
    assert last.get_json()["roadmap_status"] == "done"
    effect = client.get(url, headers=headers).get_json()["effect"]
    # November (roadmap's period): 2 roads messages; the 30 days before (02.10–31.10): 4.
    assert effect["verdict"] == "fell" and (effect["during"], effect["before"]) == (2, 4)
    assert "снизилось на 50 %" in effect["text"] and "«Дороги»" in effect["text"]


def test_an_approved_roadmap_is_amended_by_a_new_version_that_supersedes_it(kond):
    client, headers = kond
    rid = _plan(client, headers)["id"]
    _measure(client, headers, rid, "Ямочный ремонт улиц по обращениям")
    client.post(f"{KOND}/roadmaps/{rid}/agree", headers=headers, json={})
    client.post(f"{KOND}/roadmaps/{rid}/approve", headers=headers, json={})
    made = client.post(f"{KOND}/roadmaps/{rid}/versions", headers=headers, json={})
    assert made.status_code == 201
    v2 = made.get_json()
    assert (v2["version"], v2["supersedes"], v2["status"], len(v2["measures"])) == (2, rid, "draft", 1)
    assert client.post(f"{KOND}/roadmaps/{rid}/versions", headers=headers, json={}).status_code == 409
    assert (
        client.patch(
            f"{KOND}/roadmaps/{v2['id']}", headers=headers, json={"period_end": "2025-12-15"}
        ).status_code
        == 200
    )
    client.post(f"{KOND}/roadmaps/{v2['id']}/agree", headers=headers, json={})
    assert client.post(f"{KOND}/roadmaps/{v2['id']}/approve", headers=headers, json={}).status_code == 200
    old = client.get(f"{KOND}/roadmaps/{rid}", headers=headers).get_json()
    assert old["status"] == "superseded" and old["newer_versions"] == [v2["id"]]


def test_khanty_mansiysky_approves_without_agreement_by_the_curator_or_the_head(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "khanty-mansiysky")
    base = "/api/v1/khanty-mansiysky"
    client.post(
        f"{base}/messages",
        headers=headers,
        json={"channel": "pos", "text": "Яма", "received_at": "2025-10-05T10:00:00+05:00", "block": "zhkh"},
    )
    rid = client.post(
        f"{base}/roadmaps", headers=headers, json={"kind": "plan", "block": "zhkh", "period": "2025-10"}
    ).get_json()["id"]
    client.post(f"{base}/roadmaps/{rid}/measures", headers=headers, json={"title": "Ремонт сетей"})
    refused = client.post(f"{base}/roadmaps/{rid}/agree", headers=headers, json={})
    assert refused.status_code == 409 and "не согласовываются" in refused.get_json()["detail"]
    by_head = client.post(
        f"{base}/roadmaps/{rid}/approve", headers=headers, json={"position": "pos-district-head"}
    ).get_json()
    assert by_head["status"] == "approved" and by_head["approved"]["by"] == "К.Р. Минулин"
    assert by_head["approval"]["approve"] == ["curator", "district_head"]


def test_an_emergency_opens_the_operational_roadmap_due_in_24_hours(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    client.post(
        f"{KOND}/messages",
        headers=headers,
        json={"channel": "pos", "text": "Сильный запах газа в подъезде, дети дома"},
    )
    emergency = client.get(f"{KOND}/emergencies", headers=headers).get_json()["emergencies"][0]
    opened = client.post(
        f"{KOND}/roadmaps", headers=headers, json={"kind": "operational", "emergency": emergency["id"]}
    )
    assert opened.status_code == 200  # the rule's draft, not a second roadmap
    roadmap = opened.get_json()
    assert (
        roadmap["kind"] == "operational"
        and roadmap["emergency"] == emergency["id"]
        and roadmap["origin"] == "rule"
    )
    from datetime import datetime, timedelta

    declared = datetime.fromisoformat(emergency["declared_at"])
    assert datetime.fromisoformat(roadmap["due_at"]) == declared + timedelta(hours=24)
    assert roadmap["measures"][0]["title"] == "Ликвидация аварийной ситуации"
    url = f"{KOND}/roadmaps/{roadmap['id']}"
    assert client.post(f"{url}/agree", headers=headers, json={}).status_code == 200
    approved = client.post(f"{url}/approve", headers=headers, json={}).get_json()
    assert approved["agreed"]["position"].startswith("Заместители главы")  # the block's deputy head
    liquidation = roadmap["measures"][0]["id"]
    done = client.post(
        f"{url}/measures/{liquidation}/done", headers=headers, json={"evidence": "Утечка устранена"}
    )
    assert done.get_json()["messages_covered"] == 1 and done.get_json()["roadmap_status"] == "done"
    listed = client.get(f"{KOND}/roadmaps?kind=operational", headers=headers).get_json()["roadmaps"]
    assert [r["id"] for r in listed] == [roadmap["id"]]
    missing = client.post(
        f"{KOND}/roadmaps",
        headers=headers,
        json={"kind": "operational", "emergency": "0190b9c0-0000-7000-8000-000000000000"},
    )
    assert missing.status_code == 422 and "emergency" in missing.get_json()["fields"]


def test_the_roadmap_document_has_the_decree_form(kond):
    docx = pytest.importorskip("docx")
    client, headers = kond
    rid = _plan(client, headers)["id"]
    _measure(client, headers, rid, "Ямочный ремонт улиц по обращениям")
    client.post(f"{KOND}/roadmaps/{rid}/agree", headers=headers, json={"at": "2025-10-30T10:00:00+05:00"})
    client.post(f"{KOND}/roadmaps/{rid}/approve", headers=headers, json={"at": "2025-10-31T10:00:00+05:00"})
    response = client.get(f"{KOND}/roadmaps/{rid}/document.docx", headers=headers)
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    doc = docx.Document(io.BytesIO(response.data))
    texts = "\n".join(p.text for p in doc.paragraphs)
    stamps = "\n".join(c.text for c in doc.tables[0].rows[0].cells)
    assert "СОГЛАСОВАНО:" in stamps and "УТВЕРЖДАЮ:" in stamps
    assert "/А.В. Кривоногов" in stamps and "«31» октября 2025 года" in stamps
    assert "План мероприятий («дорожная карта») по снижению количества сообщений" in texts
    assert "Основные сведения" in texts and "План мероприятий" in texts
    basics = [[c.text for c in row.cells] for row in doc.tables[1].rows]
    assert basics[0] == ["Наименование проблемы", "Рост количества сообщений: Дороги"]
    assert (
        basics[2][0].startswith("Ответственный куратор отраслевого блока")
        and "Сотовый телефон:" in basics[2][1]
    )
    plan = [[c.text for c in row.cells] for row in doc.tables[2].rows]
    assert plan[0] == ["№", "Мероприятие", "Результат выполнения", "Показатель выполнения",
                       "Ответственный исполнитель", "Дата начала работ/завершения"]  # fmt: skip
    assert plan[1][0].startswith("1. Описание первопричины") and plan[2][:2] == [
        "1.1.",
        "Ямочный ремонт улиц по обращениям",
    ]
    pdf = client.get(f"{KOND}/roadmaps/{rid}/document.pdf", headers=headers)
    if pdf.status_code == 503:
        pytest.skip(pdf.get_json()["detail"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and b"FontFile2" in pdf.data


def test_the_roadmap_docx_converts_with_libreoffice(kond, tmp_path):
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) не установлен: DOCX не проверяется конвертацией")
    client, headers = kond
    rid = _plan(client, headers)["id"]
    (tmp_path / "roadmap.docx").write_bytes(
        client.get(f"{KOND}/roadmaps/{rid}/document.docx", headers=headers).data
    )
    done = subprocess.run(
        [
            soffice,
            # A private profile: the SQLite and PostgreSQL passes run side by side, and two
            # LibreOffice processes on one profile block each other.
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "roadmap.docx"),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    # soffice exits 0 without a PDF when Writer is not installed (only libreoffice-calc, say).
    pdf = tmp_path / "roadmap.pdf"
    assert pdf.exists(), f"no PDF (is LibreOffice Writer installed?): {done.stdout!r} {done.stderr!r}"
    assert pdf.read_bytes().startswith(b"%PDF")


CAMPAIGN = {
    "title": "Разъяснения о сроках ямочного ремонта",
    "blocks": ["roads"],
    "start_date": "2025-11-01",
    "end_date": "2025-11-30",
    "channel": "сайт администрации, ВКонтакте",
}


def test_an_information_campaign_is_linked_to_its_blocks_and_judged_by_volumes(kond):
    client, headers = kond
    made = client.post(f"{KOND}/campaigns", headers=headers, json=CAMPAIGN)
    assert made.status_code == 201, made.get_json()
    campaign = made.get_json()
    assert campaign["blocks"] == [{"id": "roads", "name": "Дороги"}]
    # November: 2 roads messages; the 30 days before: 4.
    assert campaign["effect"]["verdict"] == "fell" and "снизилось на 50 %" in campaign["effect"]["text"]
    listed = client.get(f"{KOND}/campaigns?block=roads", headers=headers).get_json()["campaigns"]
    assert [c["id"] for c in listed] == [campaign["id"]]
    assert client.get(f"{KOND}/campaigns/{campaign['id']}", headers=headers).status_code == 200
    for bad, field in (
        ({"blocks": ["space"]}, "blocks"),
        ({"end_date": "2025-10-01"}, "body"),
        ({"blocks": []}, "blocks"),
        ({"channel": None}, "channel"),
    ):
        refused = client.post(f"{KOND}/campaigns", headers=headers, json={**CAMPAIGN, **bad})
        assert refused.status_code == 422 and field in refused.get_json()["fields"], refused.get_json()
    assert len(client.get(f"{KOND}/campaigns", headers=headers).get_json()["campaigns"]) == 1


def test_another_districts_roadmap_is_not_found(kond, loaded_app):
    client, headers = kond
    rid = _plan(client, headers)["id"]
    intruder = _token(loaded_app, "sovetsky")
    assert client.get(f"/api/v1/sovetsky/roadmaps/{rid}", headers=intruder).status_code == 404
    assert client.get(f"{KOND}/roadmaps/{rid}", headers=intruder).status_code == 401
