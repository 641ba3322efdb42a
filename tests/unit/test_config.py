"""Layered configuration: unknown keys are errors at every layer."""

from __future__ import annotations

import pytest

from mcu.config import ConfigError, load_config


def test_defaults_give_sqlite_in_the_instance_folder(tmp_path):
    config = load_config({"TESTING": True, "INSTANCE_DIR": str(tmp_path)})
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'mcu.sqlite3'}"
    assert len(config["SECRET_KEY"]) > 40 and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_layers_and_rejects_typos(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/mcu")
    monkeypatch.setenv("MCU_BIND", "0.0.0.0:8000")  # gunicorn's, not the app's: allowed
    monkeypatch.setenv("MCU_BENCH_PG_URL", "postgresql+psycopg://bench/x")  # bench/'s: allowed
    assert load_config({"INSTANCE_DIR": str(tmp_path)})["DATABASE_URL"] == "postgresql+psycopg://db/mcu"
    monkeypatch.setenv("MCU_DATABSE_URL", "oops")
    with pytest.raises(ConfigError, match="MCU_DATABSE_URL"):
        load_config({"INSTANCE_DIR": str(tmp_path)})


def test_config_file_and_test_overrides_reject_unknown_keys(tmp_path, monkeypatch):
    file = tmp_path / "mcu.toml"
    file.write_text('log_level = "DEBUG"\n')
    monkeypatch.setenv("MCU_CONFIG_FILE", str(file))
    assert load_config({"INSTANCE_DIR": str(tmp_path)})["LOG_LEVEL"] == "DEBUG"
    file.write_text('lgo_level = "DEBUG"\n')
    with pytest.raises(ConfigError, match="LGO_LEVEL"):
        load_config({"INSTANCE_DIR": str(tmp_path)})
    monkeypatch.delenv("MCU_CONFIG_FILE")
    with pytest.raises(ConfigError, match="NOPE"):
        load_config({"TESTING": True, "NOPE": 1})
