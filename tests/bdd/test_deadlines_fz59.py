"""Сроки по 59-ФЗ: specs/deadlines/сроки_59_фз.feature."""

from pytest_bdd import scenarios

scenarios("../../specs/deadlines/сроки_59_фз.feature")
