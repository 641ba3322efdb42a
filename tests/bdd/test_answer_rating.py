"""Оценка ответа жителем: specs/quality/оценка_ответа.feature."""

from pytest_bdd import scenarios

scenarios("../../specs/quality/оценка_ответа.feature")
