"""The region → district merge rule and its provenance."""

from __future__ import annotations

from mcu.tenancy.merge import merge
from mcu.tenancy.yamlsrc import loads, to_plain

REGION = """\
schema_version: 1
kind: region
slug: r
settings:
  deadline_on_day_off: following_working_day
  working_hours: {start: "09:00", end: "18:00"}
  analysis_cadence: daily
acts:
  - {id: reg-act, title: Региональный акт}
roles:
  - {id: head, kind: mcu_head, name: Руководитель}
blocks:
  - {id: roads, name: Дороги, topic: roads}
escalation:
  rule_sets:
    - use: emergency
      params:
        liquidation_hours: 24
        report_every_hours: {value: 2, source: {act: platform, note: региональная заметка}}
      source: {act: platform, note: типовое значение региона}
    - use: overdue
  rules:
    - {id: r1, title: региональное}
"""

DISTRICT = """\
slug: d
region: r
settings:
  working_hours: {start: "08:30"}
acts:
  - {id: d-act, title: Постановление района}
  - {id: reg-act, title: Региональный акт в редакции района}
blocks:
  - {id: zhkh, name: ЖКХ, topic: housing_utilities}
escalation:
  rule_sets:
    - use: emergency
      params:
        report_every_hours: {value: 1, source: {act: d-act, clause: Регламент п.5.5}}
      source: {act: d-act, clause: Регламент п.5}
  rules:
    - {id: r1, title: районное}
    - {id: d1, title: своё}
"""


def _merged():
    region, p1 = loads(REGION, "region.yaml")
    district, p2 = loads(DISTRICT, "district.yaml")
    assert p1 == p2 == []
    effective, provenance = merge(region, district)
    return to_plain(effective), provenance


def test_lists_replace_whole_mappings_merge_by_key():
    eff, prov = _merged()
    assert [b["id"] for b in eff["blocks"]] == ["zhkh"]  # district's list replaces the region's
    assert eff["roles"][0]["id"] == "head"  # absent in the district: the region's
    assert eff["settings"]["deadline_on_day_off"] == "following_working_day"
    assert "kind" not in eff
    assert prov["blocks"]["origin"] == "district" and prov["roles"]["origin"] == "region"
    assert prov["roles"]["file"] == "region.yaml" and prov["roles"]["line"] == 11


def test_values_inside_a_section_are_replaced_whole():
    eff, _ = _merged()
    # working_hours is one value: the district's half-written one is not completed by the region
    assert eff["settings"]["working_hours"] == {"start": "08:30"}


def test_a_district_source_never_picks_up_the_region_note():
    eff, _ = _merged()
    emergency = next(rs for rs in eff["escalation"]["rule_sets"] if rs["use"] == "emergency")
    assert emergency["source"] == {"act": "d-act", "clause": "Регламент п.5"}
    assert emergency["params"]["report_every_hours"] == {
        "value": 1,
        "source": {"act": "d-act", "clause": "Регламент п.5.5"},
    }
    assert emergency["params"]["liquidation_hours"] == 24  # the region's param is kept


def test_keyed_lists_add_up():
    eff, prov = _merged()
    assert [a["id"] for a in eff["acts"]] == ["reg-act", "d-act"]
    assert eff["acts"][0]["title"] == "Региональный акт в редакции района"
    assert [rs["use"] for rs in eff["escalation"]["rule_sets"]] == ["emergency", "overdue"]
    assert [(r["id"], r["title"]) for r in eff["escalation"]["rules"]] == [("r1", "районное"), ("d1", "своё")]
    assert prov["acts[d-act]"]["origin"] == "district"
    assert prov["escalation.rule_sets[overdue]"]["origin"] == "region"
