"""Реестр проблем, не решаемых в срок до 6 месяцев: specs/deadlines/реестр_6_месяцев.feature."""

from pytest_bdd import scenarios

scenarios("../../specs/deadlines/реестр_6_месяцев.feature")
