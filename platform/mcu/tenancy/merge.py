"""How a district's configuration is laid over its region's defaults.

The rule (also in tenants/README.md and region.schema.json):
- the sections `name`, `settings`, `kpi` and `escalation` merge key by key, the district winning;
  any other value — a `source`, `working_hours`, a `{value, source}` parameter — is replaced
  whole, so that a district's source never picks up the region's note;
- lists replace the region's list whole (`settlements`, `roles`, `roster`, `blocks`,
  `channels`, `reports`, `notes`, `kpi.indicators`): their items refer to each other, and half a
  region's roster mixed with half a district's would be neither;
- except lists whose items are meant to add up, merged by key: `acts` by `id`,
  `escalation.rule_sets` by `use` (the district's params override the region's key by key) and
  `escalation.rules` by `id`.

Every decision is recorded in a provenance map: effective path → where the value came from.
"""

from __future__ import annotations

from typing import Any

from mcu.tenancy.yamlsrc import Loc, LocDict, LocList

KEYED_LISTS = {("acts",): "id", ("escalation", "rule_sets"): "use", ("escalation", "rules"): "id"}
# Paths whose mappings merge key by key; "*" stands for one rule set (by its `use`).
MERGED_MAPS = {
    (),
    ("name",),
    ("settings",),
    ("settings", "sources"),
    ("kpi",),
    ("escalation",),
    ("escalation", "rule_sets", "*"),
    ("escalation", "rule_sets", "*", "params"),
}
REGION_ONLY_KEYS = {"kind"}

Provenance = dict[str, dict[str, Any]]


def _origin(side: str, loc: Loc) -> dict[str, Any]:
    return {"origin": side, "file": loc.file, "line": loc.line}


def _path_str(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def merge(region: LocDict | None, district: LocDict) -> tuple[LocDict, Provenance]:
    provenance: Provenance = {}
    if region is None:
        for key in district:
            provenance[key] = _origin("district", district.value_locs[key])
        return district, provenance
    return _merge_maps(_without(region, REGION_ONLY_KEYS), district, (), provenance), provenance


def _without(src: LocDict, keys: set[str]) -> LocDict:
    out = LocDict({k: v for k, v in src.items() if k not in keys}, loc=src.loc)
    out.key_locs.update({k: v for k, v in src.key_locs.items() if k not in keys})
    out.value_locs.update({k: v for k, v in src.value_locs.items() if k not in keys})
    return out


def _merge_maps(base: LocDict, over: LocDict, path: tuple[Any, ...], prov: Provenance) -> LocDict:
    out = LocDict(loc=over.loc)
    for key in [*over.keys(), *(k for k in base if k not in over)]:
        here = (*path, key)
        if key in over and key in base:
            b, o = base[key], over[key]
            if here in KEYED_LISTS and isinstance(b, list) and isinstance(o, list):
                out[key] = _merge_keyed(b, o, KEYED_LISTS[here], here, prov)
            elif isinstance(b, dict) and isinstance(o, dict) and _merges(here):
                out[key] = _merge_maps(b, o, here, prov)
            else:
                out[key] = o
                prov[_path_str(here)] = _origin("district", over.value_locs[key])
            src = over
        elif key in over:
            out[key] = over[key]
            prov[_path_str(here)] = _origin("district", over.value_locs[key])
            src = over
        else:
            out[key] = base[key]
            prov[_path_str(here)] = _origin("region", base.value_locs[key])
            src = base
        out.key_locs[key] = src.key_locs.get(key, src.loc)
        out.value_locs[key] = src.value_locs.get(key, src.loc)
    return out


def _merges(path: tuple[Any, ...]) -> bool:
    if len(path) >= 3 and path[:2] == ("escalation", "rule_sets"):
        path = (*path[:2], "*", *path[3:])
    return path in MERGED_MAPS


def _merge_keyed(base: LocList, over: LocList, key: str, path: tuple[Any, ...], prov: Provenance) -> LocList:
    out = LocList(loc=over.loc)
    index: dict[Any, int] = {}

    def put(item: Any, loc: Loc, side: str) -> None:
        ident = item.get(key) if isinstance(item, dict) else None
        label = f"{_path_str(path)}[{ident}]"
        if ident is not None and ident in index:
            i = index[ident]
            previous = out[i]
            if path == ("escalation", "rule_sets") and isinstance(previous, dict) and isinstance(item, dict):
                item = _merge_maps(previous, item, (*path, ident), prov)
            out[i] = item
            out.item_locs[i] = loc
        else:
            if ident is not None:
                index[ident] = len(out)
            out.append(item)
            out.item_locs.append(loc)
        prov[label] = _origin(side, loc)

    for item, loc in zip(base, base.item_locs, strict=False):
        put(item, loc, "region")
    for item, loc in zip(over, over.item_locs, strict=False):
        put(item, loc, "district")
    return out
