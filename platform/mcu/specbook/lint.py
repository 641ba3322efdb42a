"""`mcu specs lint`: the specs are readable by the official Gherkin parser, every scenario names its
district and the clause it checks, every clause tag exists in that district's decree, the
catalogues agree with the scenarios, and no two step definitions share a text."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from mcu.specbook.catalogue import AMENDMENT_TAGS, NOT_IN_DECREE, REGION_TAGS, load_acts
from mcu.specbook.features import read_cases

STEP_DECORATORS = {"given", "when", "then", "step"}


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _step_texts(steps_dir: Path) -> list[tuple[str, str]]:
    """(text, where) of every step definition: the string given to @given/@when/@then, directly
    or through parsers.parse/re/cfparse."""
    found = []
    for path in sorted(steps_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in STEP_DECORATORS or not node.args:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Call) and arg.args:
                arg = arg.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((f"{name}: {arg.value}", f"{path.name}:{node.lineno}"))
    return found


def lint(specs_dir: Path, steps_dir: Path | None = None) -> list[Problem]:
    problems: list[Problem] = []
    acts = load_acts(specs_dir)
    by_tag = {a.tenant_tag: a for a in acts}
    district_tags = {a.tenant_tag for a in acts if a.tenant is not None}
    not_clauses = set(by_tag) | set(REGION_TAGS) | AMENDMENT_TAGS | {NOT_IN_DECREE}

    for path in sorted(specs_dir.rglob("*.feature")):
        first = path.read_text(encoding="utf-8").lstrip().splitlines()[:1]
        if first != ["# language: ru"]:
            problems.append(
                Problem(str(path.relative_to(specs_dir)), "первая строка должна быть «# language: ru»")
            )
    cases, parse_problems = read_cases(specs_dir)
    problems += [Problem(f"{p.file}:{p.line}", p.message) for p in parse_problems]

    for case in cases:
        where = f"{case.file}:{case.line} «{case.name}»"
        if not case.tags & district_tags:
            problems.append(
                Problem(where, f"нет тега района ({', '.join('@' + t for t in sorted(district_tags))})")
            )
        clause_tags = case.tags - not_clauses
        if not clause_tags and NOT_IN_DECREE not in case.tags:
            problems.append(Problem(where, "нет тега пункта постановления (или @not_in_decree)"))
        scope = [by_tag[t] for t in case.tags if t in by_tag]
        for region in case.tags & set(REGION_TAGS):
            scope += [by_tag[t] for t in REGION_TAGS[region] if t in by_tag]
        for tag in sorted(clause_tags):
            if not any(a.clause(tag) for a in scope):
                acts_named = ", ".join(a.act for a in scope) or "—"
                problems.append(
                    Problem(where, f"тег @{tag}: такого пункта нет в актах сценария ({acts_named})")
                )

    for act in acts:
        for clause in act.clauses:
            checked = [c for c in cases if act.tenant_tag in c.tags and clause.tag in c.tags]
            where = f"clauses/{act.path.name} {clause.tag}"
            if clause.automated and not checked:
                problems.append(Problem(where, "отмечен automated, но ни один сценарий его не проверяет"))
            if not clause.automated and checked:
                problems.append(
                    Problem(
                        where,
                        f"отмечен not_automated, а сценарий его проверяет: {checked[0].file}:{checked[0].line}",
                    )
                )

    if steps_dir is not None and steps_dir.exists():
        seen: dict[str, str] = {}
        for text, where in _step_texts(steps_dir):
            if text in seen:
                problems.append(Problem(where, f"шаг «{text}» уже определён в {seen[text]}"))
            else:
                seen[text] = where
    return problems
