"""YAML that remembers where every value came from.

Mappings and sequences load as `LocDict` / `LocList`, which behave as plain dicts and lists
(jsonschema and json accept them) and carry the file, line and column of each key and value, so
that any problem found later — by the schema, by a cross-check, after the region merge — can be
reported as `file:line:column: message`. Duplicate keys, which PyYAML silently lets win, are
errors here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser builds the same nodes with the same marks several times faster; the pure
# Python one stays the fallback where PyYAML was built without it.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, order=True)
class Loc:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Problem:
    loc: Loc
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"


class LocDict(dict):
    loc: Loc
    key_locs: dict[str, Loc]
    value_locs: dict[str, Loc]

    def __init__(self, *args: Any, loc: Loc | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.loc = loc or Loc("?", 0, 0)
        self.key_locs = {}
        self.value_locs = {}


class LocList(list):
    loc: Loc
    item_locs: list[Loc]

    def __init__(self, *args: Any, loc: Loc | None = None) -> None:
        super().__init__(*args)
        self.loc = loc or Loc("?", 0, 0)
        self.item_locs = []


def _loc(file: str, mark: yaml.Mark | None) -> Loc:
    if mark is None:
        return Loc(file, 1, 1)
    return Loc(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.constructor = yaml.SafeLoader("")  # used only to construct scalars

    def build(self, node: yaml.Node) -> Any:
        here = _loc(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            out = LocDict(loc=here)
            for key_node, value_node in node.value:
                key_loc = _loc(self.file, key_node.start_mark)
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problems.append(
                        Problem(key_loc, "ключ слияния «<<» не поддерживается: запишите значения явно")
                    )
                    continue
                # Keys are names, never YAML 1.1 booleans or numbers: `on:` stays "on"
                # (PyYAML would make it True) and `2024:` stays "2024".
                if isinstance(key_node, yaml.ScalarNode):
                    key = key_node.value
                else:
                    self.problems.append(Problem(key_loc, "ключ должен быть простым текстом"))
                    continue
                if key in out:
                    first = out.key_locs[key]
                    self.problems.append(
                        Problem(key_loc, f"ключ «{key}» повторяется (первый раз в строке {first.line})")
                    )
                    continue
                out[key] = self.build(value_node)
                out.key_locs[key] = key_loc
                out.value_locs[key] = _loc(self.file, value_node.start_mark)
            return out
        if isinstance(node, yaml.SequenceNode):
            out_list = LocList(loc=here)
            for item in node.value:
                out_list.append(self.build(item))
                out_list.item_locs.append(_loc(self.file, item.start_mark))
            return out_list
        value = self.constructor.construct_object(node, deep=True)
        # Dates stay text: the schema checks their form and JSON has no date type.
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        return value


def load(path: Path, display: str | None = None) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; return (data, problems). data is None when it cannot be parsed."""
    file = display or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(Loc(file, 1, 1), f"файл не в кодировке UTF-8 (байт {exc.start})")]
    except OSError as exc:
        return None, [Problem(Loc(file, 1, 1), f"файл не читается: {exc.strerror}")]
    return loads(text, file)


def loads(text: str, file: str) -> tuple[Any, list[Problem]]:
    try:
        nodes = list(yaml.compose_all(text, Loader=_COMPOSER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "ошибка синтаксиса YAML"
        if exc.context:
            what = f"{exc.context}: {what}"
        return None, [Problem(_loc(file, mark), f"ошибка синтаксиса YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(Loc(file, 1, 1), f"ошибка YAML: {exc}")]
    if len(nodes) > 1:
        return None, [Problem(_loc(file, nodes[1].start_mark), "в файле больше одного YAML-документа")]
    if not nodes or nodes[0] is None:
        return None, [Problem(Loc(file, 1, 1), "файл пуст")]
    builder = _Builder(file)
    try:
        data = builder.build(nodes[0])
    except yaml.constructor.ConstructorError as exc:
        return None, [Problem(_loc(file, exc.problem_mark), f"значение не читается: {exc.problem}")]
    return data, builder.problems


def locate(root: Any, path: tuple[Any, ...] | list[Any], *, key: bool = False) -> Loc:
    """Where the value at `path` (or its key, with key=True) was written.

    Falls back to the nearest enclosing node that has a location.
    """
    node = root
    best = getattr(root, "loc", Loc("?", 0, 0))
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, LocDict) and step in node:
            locs = node.key_locs if (key and last) else node.value_locs
            best = locs.get(step, best)
            node = node[step]
        elif isinstance(node, LocList) and isinstance(step, int) and 0 <= step < len(node):
            if step < len(node.item_locs):
                best = node.item_locs[step]
            node = node[step]
        else:
            break
    return best


def to_plain(value: Any) -> Any:
    """Drop the location wrappers (for hashing, JSON columns and display)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
