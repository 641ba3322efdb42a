"""The feature files as test cases: a scenario, or one `Примеры` block of an outline, with every
tag that applies to it (feature, scenario, examples) — the unit the spec book and lint reason about."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gherkin.errors import CompositeParserException, ParserError
from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner


@dataclass(frozen=True)
class Case:
    feature: str
    file: str  # relative to specs/
    line: int
    scenario: str
    examples: str | None
    tags: frozenset[str]
    steps: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.scenario} — {self.examples}" if self.examples else self.scenario

    @property
    def key(self) -> tuple[str, frozenset[str]]:
        return (self.scenario, self.tags)


@dataclass(frozen=True)
class ParseProblem:
    file: str
    line: int
    message: str


def _tags(node: dict) -> set[str]:
    return {t["name"].lstrip("@") for t in node.get("tags", [])}


def read_cases(specs_dir: Path) -> tuple[list[Case], list[ParseProblem]]:
    cases: list[Case] = []
    problems: list[ParseProblem] = []
    for path in sorted(specs_dir.rglob("*.feature")):
        rel = str(path.relative_to(specs_dir))
        try:
            doc = Parser().parse(TokenScanner(path.read_text(encoding="utf-8")))
        except (CompositeParserException, ParserError) as exc:
            problems.append(ParseProblem(rel, 0, f"не разбирается парсером Gherkin: {exc}"))
            continue
        feature = doc.get("feature")
        if feature is None:
            problems.append(ParseProblem(rel, 1, "нет раздела «Функция»"))
            continue
        feature_tags = _tags(feature)
        children = []
        for child in feature["children"]:
            if "rule" in child:
                rule = child["rule"]
                children += [(c, feature_tags | _tags(rule)) for c in rule["children"]]
            else:
                children.append((child, feature_tags))
        for child, inherited in children:
            scenario = child.get("scenario")
            if scenario is None:
                continue
            base = inherited | _tags(scenario)
            steps = tuple(s["text"] for s in scenario.get("steps", []))
            line = scenario["location"]["line"]
            if scenario.get("examples"):
                for examples in scenario["examples"]:
                    cases.append(
                        Case(
                            feature["name"],
                            rel,
                            examples["location"]["line"],
                            scenario["name"],
                            examples.get("name") or None,
                            frozenset(base | _tags(examples)),
                            steps,
                        )
                    )
            else:
                cases.append(Case(feature["name"], rel, line, scenario["name"], None, frozenset(base), steps))
    return cases, problems
