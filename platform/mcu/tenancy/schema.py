"""The published JSON Schemas and validation errors in plain Russian at the YAML line."""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from mcu.tenancy.yamlsrc import Problem, locate

SCHEMA_FILES = (
    "tenant.schema.json",
    "region.schema.json",
    "rule-set.schema.json",
    "kpi-catalogue.schema.json",
)

_TYPES = {
    "string": "текст",
    "integer": "целое число",
    "number": "число",
    "boolean": "true или false",
    "object": "раздел «ключ: значение»",
    "array": "список",
    "null": "пустое значение",
}

_PATTERNS = {
    "^[a-z][a-z0-9-]{1,47}$": "латинские строчные буквы, цифры и «-», начиная с буквы (2–48 знаков)",
    "^[a-z][a-z0-9_-]{0,63}$": "латинские строчные буквы, цифры, «_» и «-», начиная с буквы",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "дата в виде ГГГГ-ММ-ДД",
    "^([01][0-9]|2[0-3]):[0-5][0-9]$": "время в виде ЧЧ:ММ",
    "^(20[0-9]{2})$": "год, например 2024",
}


def load_schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("mcu.schemas").joinpath(name).read_text(encoding="utf-8"))


@cache
def _validators() -> dict[str, Draft202012Validator]:
    schemas = {name: load_schema(name) for name in SCHEMA_FILES}
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return {
        name.split(".")[0]: Draft202012Validator(s, registry=registry, format_checker=FormatChecker())
        for name, s in schemas.items()
    }


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"


def _field_name(path: list[Any]) -> str:
    names = [str(p) for p in path if not isinstance(p, int)]
    return names[-1] if names else "документ"


def _explain(error: ValidationError, root: Any) -> list[Problem]:
    path = list(error.absolute_path)
    where = locate(root, path)
    kind, value, inst = error.validator, error.validator_value, error.instance
    field = _field_name(path)
    if kind in ("oneOf", "anyOf") and error.context:
        # The branch whose type fits the value says what is wrong with it; when no branch's type
        # fits, say which types would.
        fitting = [e for e in error.context if e.validator != "type" or list(e.relative_path)]
        if fitting:
            return _explain(best_match(fitting), root)
        wanted = []
        for e in error.context:
            for t in e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]:
                if t not in wanted:
                    wanted.append(t)
        names = " или ".join(_TYPES.get(w, w) for w in wanted)
        return [Problem(where, f"поле «{field}»: ожидается {names}, указано «{_show(inst)}»")]
    if kind == "required":
        missing = [r for r in value if isinstance(inst, dict) and r not in inst]
        return [Problem(where, f"в разделе «{field}» нет обязательного поля «{m}»") for m in missing]
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        problems = []
        for extra in (k for k in inst if k not in allowed):
            hint = difflib.get_close_matches(extra, allowed, n=1)
            tail = (
                f" — возможно, имелось в виду «{hint[0]}»"
                if hint
                else (f"; допустимые поля: {', '.join(allowed)}" if allowed else "")
            )
            problems.append(
                Problem(locate(root, [*path, extra], key=True), f"неизвестное поле «{extra}»{tail}")
            )
        return problems
    if kind == "type":
        wanted = value if isinstance(value, list) else [value]
        names = " или ".join(_TYPES.get(w, w) for w in wanted)
        return [Problem(where, f"поле «{field}»: ожидается {names}, указано «{_show(inst)}»")]
    if kind == "enum":
        options = ", ".join(str(v) for v in value)
        return [Problem(where, f"поле «{field}»: значение «{_show(inst)}» не из допустимых ({options})")]
    if kind == "const":
        return [Problem(where, f"поле «{field}» должно быть равно {_show(value)}")]
    if kind == "pattern":
        rule = _PATTERNS.get(value, f"формат {value}")
        return [Problem(where, f"поле «{field}»: «{_show(inst)}» не подходит — нужно: {rule}")]
    if kind == "format":
        rule = {"date": "существующая дата ГГГГ-ММ-ДД"}.get(value, value)
        return [Problem(where, f"поле «{field}»: «{_show(inst)}» — нужна {rule}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = "не меньше" if "inimum" in kind else "не больше"
        return [Problem(where, f"поле «{field}»: {_show(inst)} — значение должно быть {word} {value}")]
    if kind == "minItems":
        return [Problem(where, f"список «{field}» должен содержать хотя бы {value} элемент(а)")]
    if kind == "minLength":
        return [Problem(where, f"поле «{field}» не может быть пустым")]
    if kind == "minProperties":
        return [Problem(where, f"раздел «{field}» не может быть пустым")]
    if kind == "propertyNames":
        sub = error.context[0] if error.context else None
        bad = sub.instance if sub is not None else "?"
        loc = locate(root, [*path, bad], key=True)
        rule = _PATTERNS.get(error.schema.get("propertyNames", {}).get("pattern", ""), "допустимое имя")
        return [Problem(loc, f"ключ «{bad}» в разделе «{field}» не подходит — нужно: {rule}")]
    return [Problem(where, f"поле «{field}»: {error.message}")]


def validate(data: Any, kind: str) -> list[Problem]:
    """Validate a district ('tenant'), region ('region') or shared rule set ('rule-set') document."""
    validator = _validators()[kind]
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        problems.extend(_explain(error, data))
    return sorted(set(problems))
