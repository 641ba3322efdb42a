"""Time-ordered ids: version 7, and monotonic within a process even inside one millisecond."""

from mcu.ids import uuid7


def test_ids_are_version_7_and_sort_in_creation_order():
    ids = [uuid7() for _ in range(20_000)]  # many share a millisecond
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
