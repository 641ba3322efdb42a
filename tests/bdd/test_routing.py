"""Классификация и маршрутизация: specs/routing/маршрутизация.feature."""

from pytest_bdd import parsers, scenarios, then

from tests.bdd.conftest import District

scenarios("../../specs/routing/маршрутизация.feature")


@then(parsers.re(r"в районе действуют отраслевые блоки(?:, названные в «(?P<clause>[^»]+)»)?:"))
def blocks_are(district: District, clause: str | None, datatable: list[list[str]]) -> None:
    """Exactly these blocks (of those the decree's clause names, where it is given), each with a
    head in the district's Состав to whom its messages go."""
    blocks = [
        b
        for b in district.config.blocks.values()
        if clause is None or any(place.get("clause") == clause for place in b.get("listed_in") or [])
    ]
    assert sorted(b["name"] for b in blocks) == sorted(row[0] for row in datatable[1:])
    assert all(b.get("head") in district.config.roster for b in blocks), [b.get("head") for b in blocks]
