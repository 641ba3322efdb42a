"""Классификация и маршрутизация: specs/routing/маршрутизация.feature."""

from pytest_bdd import scenarios

scenarios("../../specs/routing/маршрутизация.feature")
