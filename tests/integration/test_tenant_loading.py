"""Loading tenants into the database: all or nothing, versions, onboarding by config alone."""

from __future__ import annotations

import shutil

from sqlmodel import Session, select

from mcu.audit.models import AuditRecord
from mcu.db import engine
from mcu.tenancy.models import Tenant, TenantConfigVersion
from tests.conftest import FIXTURES, REPO


def _tenants(app) -> dict[str, Tenant]:
    with app.app_context(), Session(engine()) as s:
        return {t.slug: t for t in s.exec(select(Tenant))}


def _versions(app, slug: str) -> list[TenantConfigVersion]:
    with app.app_context(), Session(engine()) as s:
        t = s.exec(select(Tenant).where(Tenant.slug == slug)).one()
        return list(s.exec(select(TenantConfigVersion).where(TenantConfigVersion.tenant_id == t.id)))


def test_load_founding_tenants_is_idempotent(app, runner):
    first = runner.invoke(args=["tenants", "load"])
    assert first.exit_code == 0, first.output
    assert set(_tenants(app)) == {
        "kondinsky",
        "khanty-mansiysky",
        "sovetsky",
        "nekrasovsky",
        "konstantinovsky",
    }
    assert "добавлен" in first.output
    again = runner.invoke(args=["tenants", "load"])
    assert again.exit_code == 0
    assert again.output.count("без изменений") == 5
    assert len(_versions(app, "kondinsky")) == 1


def test_nothing_is_loaded_when_any_tenant_is_invalid(app, runner, tenant_tree):
    # a second, broken district beside the valid one
    broken = tenant_tree / "testreg" / "beta.yaml"
    broken.write_text(
        (tenant_tree / "testreg" / "alpha.yaml")
        .read_text(encoding="utf-8")
        .replace("slug: alpha", "slug: beta")
        .replace("head: pos-roads", "head: pos-missing"),
        encoding="utf-8",
    )
    result = runner.invoke(args=["tenants", "load", str(tenant_tree)])
    assert result.exit_code == 1
    assert "Ничего не загружено" in result.output
    assert f"{broken}:" in result.output
    assert _tenants(app) == {}


def test_running_platform_keeps_last_good_config(app, runner, tenant_tree):
    assert runner.invoke(args=["tenants", "load", str(tenant_tree)]).exit_code == 0
    good = _tenants(app)["alpha"].current_version_id
    path = tenant_tree / "testreg" / "alpha.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("topic: roads", "topic: rivers"), encoding="utf-8"
    )
    result = runner.invoke(args=["tenants", "load", str(tenant_tree)])
    assert result.exit_code == 1
    assert _tenants(app)["alpha"].current_version_id == good


def test_changed_file_is_a_new_version_on_reload(app, runner, tenant_tree):
    assert runner.invoke(args=["tenants", "load", str(tenant_tree)]).exit_code == 0
    path = tenant_tree / "testreg" / "alpha.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"2025": 85', '"2025": 90'), encoding="utf-8")
    result = runner.invoke(args=["tenants", "load", str(tenant_tree)])
    assert result.exit_code == 0 and "alpha: обновлён" in result.output
    versions = _versions(app, "alpha")
    assert len(versions) == 2
    current = next(v for v in versions if v.id == _tenants(app)["alpha"].current_version_id)
    assert current.effective["kpi"]["indicators"][0]["targets"]["2025"] == 90
    with app.app_context(), Session(engine()) as s:
        actions = [a.action for a in s.exec(select(AuditRecord))]
    assert actions.count("config.loaded") == 2


def test_region_change_is_a_new_version_of_its_districts(app, runner, tenant_tree):
    assert runner.invoke(args=["tenants", "load", str(tenant_tree)]).exit_code == 0
    region = tenant_tree / "testreg" / "_region.yaml"
    region.write_text(
        region.read_text(encoding="utf-8").replace('end: "18:00"', 'end: "17:00"'), encoding="utf-8"
    )
    result = runner.invoke(args=["tenants", "load", str(tenant_tree)])
    assert "alpha: обновлён" in result.output
    assert len(_versions(app, "alpha")) == 2


def test_new_district_by_one_yaml_file_no_code_change(make_app, tmp_path):
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "tenants", tenants)
    app = make_app(TENANTS_DIR=str(tenants))
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["tenants", "new", "berezovsky", "--region", "khmao", "--name", "Березовский район"]
    )
    assert made.exit_code == 0, made.output
    path = tenants / "khmao" / "berezovsky.yaml"
    assert path.is_file()
    assert runner.invoke(args=["tenants", "validate", str(path)]).exit_code == 0
    listed = runner.invoke(args=["tenants", "list"])
    assert "berezovsky" in listed.output and "есть файл, не загружен" in listed.output
    loaded = runner.invoke(args=["tenants", "load", str(path)])
    assert loaded.exit_code == 0, loaded.output
    assert "berezovsky: добавлен" in loaded.output
    assert set(_tenants(app)) == {"berezovsky"}
    listed = runner.invoke(args=["tenants", "list"])
    assert "berezovsky" in listed.output and "совпадает с файлом" in listed.output
    # its blocks, roster and channels come from the ХМАО defaults
    (version,) = _versions(app, "berezovsky")
    assert version.provenance["blocks"]["origin"] == "region"
    assert version.effective["channels"]


def test_scaffold_refuses_to_overwrite_and_unknown_region(runner):
    assert runner.invoke(args=["tenants", "new", "kondinsky", "--region", "khmao"]).exit_code == 1
    result = runner.invoke(args=["tenants", "new", "x-district", "--region", "atlantis"])
    assert result.exit_code == 2 and "Регион «atlantis» не найден" in result.output


def test_show_sovetsky_marks_values_from_region(runner):
    result = runner.invoke(args=["tenants", "show", "sovetsky"])
    assert result.exit_code == 0, result.output
    for section in ("roles", "roster", "blocks", "channels"):
        assert f"# {section} ← регион: tenants/khmao/_region.yaml:" in result.output, section
    assert "# kpi ← район: tenants/khmao/sovetsky.yaml:" in result.output


def test_show_unknown_tenant(runner):
    result = runner.invoke(args=["tenants", "show", "atlantis"])
    assert result.exit_code == 1 and "не найден" in result.output


def test_fixture_tree_is_untouched():
    # the broken-file tests work on copies; the committed fixture itself must stay valid
    assert "head: pos-roads" in (FIXTURES / "tenants" / "testreg" / "alpha.yaml").read_text(encoding="utf-8")
