"""Источники поступления: specs/intake/каналы.feature."""

from pytest_bdd import scenarios

scenarios("../../specs/intake/каналы.feature")
