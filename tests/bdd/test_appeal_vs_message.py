"""Обращение и сообщение: specs/intake/обращение_и_сообщение.feature."""

from pytest_bdd import scenarios

scenarios("../../specs/intake/обращение_и_сообщение.feature")
