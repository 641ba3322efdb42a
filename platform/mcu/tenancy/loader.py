"""Reading district files into effective configurations, all or nothing.

`read_tenants` parses every file, validates each against its schema, merges each district over
its region and runs the cross-checks. The caller loads the result into the database only when
`problems` is empty: one invalid tenant stops the whole load, and the platform keeps running on
its last good configuration.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcu.tenancy import checks, merge, schema
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.library import Library, load_library
from mcu.tenancy.yamlsrc import Loc, LocDict, Problem, load, locate, to_plain

REGION_FILE = "_region.yaml"


@dataclass
class TenantSource:
    slug: str
    region: str
    files: list[str]
    effective: LocDict
    provenance: dict[str, dict[str, Any]]

    @property
    def plain(self) -> dict[str, Any]:
        return to_plain(self.effective)

    resolved: dict[str, Any] = field(default_factory=dict)

    def as_config(self, tenant_id: int) -> TenantConfig:
        """The configuration as the platform would run it, without storing it: for trying a
        file (rules replay) and for tests and benchmarks that need no database."""
        return TenantConfig(
            tenant_id=tenant_id,
            slug=self.slug,
            version_id=uuid.uuid4(),
            version_hash=self.content_hash,
            data=self.plain,
            provenance=self.provenance,
            resolved=self.resolved,
        )

    @property
    def content_hash(self) -> str:
        both = {"config": self.plain, "resolved": self.resolved}
        canonical = json.dumps(both, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class ReadResult:
    library: Library
    tenants: dict[str, TenantSource] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def resolve_library(effective: LocDict, library: Library) -> dict[str, Any]:
    """The part of the shared library this district uses, as plain data."""
    channels = effective.get("channels") or []
    blocks = effective.get("blocks") or []
    rule_sets = (effective.get("escalation") or {}).get("rule_sets") or []
    pick = lambda table, ids: {i: to_plain(table[i]) for i in sorted(ids) if i in table}  # noqa: E731
    return {
        "deadline_profiles": pick(library.deadline_profiles, {c.get("deadline_profile") for c in channels}),
        "topics": pick(library.topics, {b.get("topic") for b in blocks}),
        "rule_sets": pick(library.rule_sets, {r.get("use") for r in rule_sets}),
        "threat_to_life": to_plain(library.threat_to_life),
        "acts": pick(library.acts, set(library.acts)),
        # Every indicator, not only the district's own: a district without targets is shown
        # the facts of the whole catalogue, each with its methodology.
        "indicators": pick(library.indicators, set(library.indicators)),
    }


def display_path(path: Path) -> str:
    """Paths relative to the working directory when inside it: what an editor jumps to."""
    try:
        rel = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def discover(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.yaml")) if not p.name.startswith("."))
            found.extend(p for p in sorted(path.rglob("*.yml")) if not p.name.startswith("."))
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Problem(Loc(str(path), 1, 1), "нет такого файла или папки"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, problems


def read_tenants(paths: list[Path] | None, *, tenants_dir: Path, rules_dir: Path) -> ReadResult:
    library, lib_problems = load_library(rules_dir)
    result = ReadResult(library=library, problems=list(lib_problems))
    files, problems = discover(paths or [tenants_dir])
    result.problems.extend(problems)

    regions: dict[str, tuple[Path, LocDict]] = {}
    districts: list[tuple[Path, LocDict]] = []

    def parse(path: Path) -> LocDict | None:
        shown = display_path(path)
        if shown not in result.files:
            result.files.append(shown)
        data, errs = load(path, shown)
        result.problems.extend(errs)
        if data is None:
            return None
        if not isinstance(data, LocDict):
            result.problems.append(
                Problem(
                    Loc(shown, 1, 1), "файл должен описывать раздел «ключ: значение», а не список или строку"
                )
            )
            return None
        return data

    def add_region(path: Path) -> None:
        data = parse(path)
        if data is None:
            return
        result.problems.extend(schema.validate(data, "region"))
        slug = data.get("slug")
        if isinstance(slug, str):
            if slug != path.parent.name:
                result.problems.append(
                    Problem(
                        locate(data, ["slug"]),
                        f"регион «{slug}» лежит в папке «{path.parent.name}»: имя папки должно совпадать со slug региона",
                    )
                )
            regions.setdefault(slug, (path, data))

    for path in files:
        if path.name == REGION_FILE:
            add_region(path)
    for path in files:
        if path.name == REGION_FILE:
            continue
        data = parse(path)
        if data is None:
            continue
        result.problems.extend(schema.validate(data, "tenant"))
        districts.append((path, data))

    seen: dict[str, Loc] = {}
    for path, data in districts:
        slug, region_slug = data.get("slug"), data.get("region")
        if not isinstance(slug, str) or not isinstance(region_slug, str):
            continue  # already reported by the schema
        if slug in seen:
            result.problems.append(
                Problem(locate(data, ["slug"]), f"район «{slug}» уже описан в {seen[slug]}")
            )
            continue
        seen[slug] = locate(data, ["slug"])
        if path.stem != slug:
            result.problems.append(
                Problem(
                    locate(data, ["slug"]),
                    f"файл называется «{path.name}», а slug района — «{slug}»: назовите файл {slug}.yaml",
                )
            )
        if region_slug not in regions:
            for candidate in (tenants_dir / region_slug / REGION_FILE, path.parent / REGION_FILE):
                if candidate.is_file():
                    add_region(candidate.resolve())
                    break
        if region_slug not in regions:
            result.problems.append(
                Problem(
                    locate(data, ["region"]),
                    f"регион «{region_slug}» не найден: нет файла {region_slug}/{REGION_FILE}",
                )
            )
            continue
        region_path, region_data = regions[region_slug]
        effective, provenance = merge.merge(region_data, data)
        result.problems.extend(checks.check(effective, library))
        result.tenants[slug] = TenantSource(
            slug=slug,
            region=region_slug,
            files=[display_path(region_path), display_path(path)],
            effective=effective,
            provenance=provenance,
            resolved=resolve_library(effective, library),
        )
    result.problems = sorted(set(result.problems))
    return result
