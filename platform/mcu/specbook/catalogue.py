"""Clause catalogues (specs/clauses/*.yaml): every provision of an act, its text, and whether a
scenario checks it or why not (and, for a clause checked in part, a note on the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

# Tags that are not a district and not a clause: what a scenario may carry besides them.
REGION_TAGS = {"region_khmao": ("khanty_mansiysky", "kondinsky")}  # ХМАО's template is from these
NOT_IN_DECREE = "not_in_decree"  # platform behaviour no decree prescribes (a default we chose)
AMENDMENT_TAGS = {"fz547"}  # the act that amended a cited article; the article itself is tagged


@dataclass(frozen=True)
class Clause:
    tag: str
    title: str
    text: str
    automated: bool
    reason: str | None
    # What of an automated clause the scenarios check, and which part is people's work (a duty
    # of the МЦУ, an outside system): shown under the clause so a reviewer sees the boundary.
    note: str | None = None


@dataclass(frozen=True)
class Act:
    act: str
    tenant: str | None
    tenant_tag: str
    title: str
    file: str | None
    clauses: tuple[Clause, ...]
    path: Path

    def clause(self, tag: str) -> Clause | None:
        return next((c for c in self.clauses if c.tag == tag), None)


class CatalogueError(ValueError):
    pass


def load_acts(specs_dir: Path) -> list[Act]:
    acts = []
    for path in sorted((specs_dir / "clauses").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        clauses = []
        for i, item in enumerate(data.get("clauses") or []):
            automated = bool(item.get("automated"))
            reason = item.get("not_automated")
            if automated == bool(reason):
                raise CatalogueError(
                    f"{path.name}: пункт {item.get('tag', i)}: нужно ровно одно — automated: true или not_automated: причина"
                )
            clauses.append(
                Clause(
                    tag=item["tag"],
                    title=item.get("title", item["tag"]),
                    text=" ".join(str(item.get("text", "")).split()),
                    automated=automated,
                    reason=reason,
                    note=" ".join(str(item["note"]).split()) if item.get("note") else None,
                )
            )
        tags = [c.tag for c in clauses]
        if len(tags) != len(set(tags)):
            dupes = sorted({t for t in tags if tags.count(t) > 1})
            raise CatalogueError(f"{path.name}: повторяются теги пунктов: {', '.join(dupes)}")
        acts.append(
            Act(
                act=data["act"],
                tenant=data.get("tenant"),
                tenant_tag=data["tenant_tag"],
                title=data["title"],
                file=data.get("file"),
                clauses=tuple(clauses),
                path=path,
            )
        )
    return acts
