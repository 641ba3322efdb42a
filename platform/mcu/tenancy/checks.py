"""Cross-checks the JSON Schema cannot express, run on a district's effective configuration.

Every problem is reported at the line where the offending value was written, in whichever
file (district or region) it came from.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import Any

from mcu.tenancy.library import Library
from mcu.tenancy.yamlsrc import LocDict, Problem, locate

LIST_SECTIONS = ("settlements", "roles", "roster", "blocks", "channels", "reports", "notes")
REQUIRED_EFFECTIVE = ("timezone", "roles", "roster", "blocks", "channels")
HEAD_KINDS = {"block_head", "block_responsible"}
# What an action of a district rule may name, and how to say it does not exist.
ACTION_REFERENCES = {
    "role": "роль «{}» не определена в разделе roles",
    "role_kind": "в районе нет роли вида «{}»",
    "block": "отраслевой блок «{}» не определён",
    "report": "отчёт «{}» не определён в разделе reports",
}


class _Checker:
    def __init__(self, cfg: LocDict, lib: Library) -> None:
        self.cfg = cfg
        self.lib = lib
        self.problems: list[Problem] = []

    def add(self, path: list[Any], message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(locate(self.cfg, path, key=key), message))

    def ids(self, section: str) -> dict[str, int]:
        items = self.cfg.get(section) or []
        return {it["id"]: i for i, it in enumerate(items) if isinstance(it, dict) and "id" in it}

    def run(self) -> list[Problem]:
        for name in REQUIRED_EFFECTIVE:
            if not self.cfg.get(name):
                self.add([], f"нет раздела «{name}»: его не задаёт ни файл района, ни значения региона")
        self.timezone()
        self.unique_ids()
        self.roster()
        self.blocks()
        self.channels()
        self.escalation()
        self.kpi()
        self.reports()
        self.settings()
        self.sources()
        return self.problems

    def timezone(self) -> None:
        tz = self.cfg.get("timezone")
        if isinstance(tz, str):
            try:
                zoneinfo.ZoneInfo(tz)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.add(
                    ["timezone"],
                    f"неизвестный часовой пояс «{tz}» (нужно имя IANA, например Asia/Yekaterinburg)",
                )

    def unique_ids(self) -> None:
        for section in (*LIST_SECTIONS, "acts"):
            seen: dict[str, int] = {}
            for i, item in enumerate(self.cfg.get(section) or []):
                ident = item.get("id") if isinstance(item, dict) else None
                if ident in seen:
                    first = locate(self.cfg, [section, seen[ident]]).line
                    self.add(
                        [section, i, "id"],
                        f"идентификатор «{ident}» в разделе «{section}» повторяется (первый раз в строке {first})",
                    )
                elif ident is not None:
                    seen[ident] = i

    def roster(self) -> None:
        roles, blocks, settlements = self.ids("roles"), self.ids("blocks"), self.ids("settlements")
        for i, pos in enumerate(self.cfg.get("roster") or []):
            for j, role in enumerate(pos.get("roles", [])):
                if role not in roles:
                    self.add(
                        ["roster", i, "roles", j],
                        f"должность «{pos['id']}»: роль «{role}» не определена в разделе roles",
                    )
            for j, block in enumerate(pos.get("blocks", [])):
                if block not in blocks:
                    self.add(
                        ["roster", i, "blocks", j],
                        f"должность «{pos['id']}»: отраслевой блок «{block}» не определён в разделе blocks",
                    )
            if "settlement" in pos and pos["settlement"] not in settlements:
                self.add(
                    ["roster", i, "settlement"],
                    f"должность «{pos['id']}»: поселение «{pos['settlement']}» не определено в разделе settlements",
                )

    def _role_kinds_of(self, position_id: str) -> set[str]:
        kinds_by_role = {r["id"]: r.get("kind") for r in self.cfg.get("roles") or []}
        for pos in self.cfg.get("roster") or []:
            if pos.get("id") == position_id:
                return {kinds_by_role.get(r) for r in pos.get("roles", [])} - {None}
        return set()

    def blocks(self) -> None:
        roster = self.ids("roster")
        for i, block in enumerate(self.cfg.get("blocks") or []):
            if block.get("topic") not in self.lib.topics:
                self.add(
                    ["blocks", i, "topic"],
                    f"блок «{block['id']}»: тема «{block.get('topic')}» не найдена в rules/topics.yaml",
                )
            head = block.get("head")
            if head is not None:
                if head not in roster:
                    self.add(
                        ["blocks", i, "head"],
                        f"блок «{block['id']}»: руководитель «{head}» — нет такой должности в разделе roster",
                    )
                elif not self._role_kinds_of(head) & HEAD_KINDS:
                    self.add(
                        ["blocks", i, "head"],
                        f"блок «{block['id']}»: должность «{head}» не имеет роли руководителя блока (block_head или block_responsible)",
                    )
            curator = block.get("curator")
            if curator is not None and curator not in roster:
                self.add(
                    ["blocks", i, "curator"],
                    f"блок «{block['id']}»: куратор «{curator}» — нет такой должности в разделе roster",
                )

    def channels(self) -> None:
        for i, ch in enumerate(self.cfg.get("channels") or []):
            profile = self.lib.deadline_profiles.get(ch.get("deadline_profile"))
            if profile is None:
                self.add(
                    ["channels", i, "deadline_profile"],
                    f"канал «{ch['id']}»: профиль сроков «{ch.get('deadline_profile')}» не найден в rules/deadlines/",
                )
            elif profile.get("regime") != ch.get("regime"):
                word = {"appeal": "обращений по 59-ФЗ", "message": "сообщений"}
                self.add(
                    ["channels", i, "deadline_profile"],
                    f"канал «{ch['id']}» принимает {word.get(ch.get('regime'), '?')}, а профиль «{profile['id']}» — для {word.get(profile.get('regime'), '?')}",
                )
            start, end = ch.get("valid_from"), ch.get("valid_to")
            if isinstance(start, str) and isinstance(end, str) and start > end:
                self.add(
                    ["channels", i, "valid_to"],
                    f"канал «{ch['id']}»: окончание действия {end} раньше начала {start}",
                )

    def escalation(self) -> None:
        esc = self.cfg.get("escalation") or {}
        roles = {r["id"]: r.get("kind") for r in self.cfg.get("roles") or []}
        kinds = set(roles.values())
        blocks, reports = self.ids("blocks"), self.ids("reports")
        for i, used in enumerate(esc.get("rule_sets") or []):
            rs = self.lib.rule_sets.get(used.get("use"))
            here = ["escalation", "rule_sets", i]
            if rs is None:
                known = ", ".join(sorted(self.lib.rule_sets))
                self.add(
                    [*here, "use"],
                    f"набор правил «{used.get('use')}» не найден в rules/escalation/ (есть: {known})",
                )
                continue
            declared = rs.get("params") or {}
            for name, value in (used.get("params") or {}).items():
                if name not in declared:
                    self.add(
                        [*here, "params", name],
                        f"набор правил «{rs['id']}» не знает параметра «{name}» (есть: {', '.join(declared) or 'нет параметров'})",
                        key=True,
                    )
                    continue
                raw = value.get("value") if isinstance(value, dict) else value
                if declared[name].get("type") == "number" and (
                    isinstance(raw, bool) or not isinstance(raw, int | float)
                ):
                    self.add(
                        [*here, "params", name], f"параметр «{name}» набора «{rs['id']}» должен быть числом"
                    )
            if used.get("enabled", True):
                for kind in sorted(self.lib.rule_set_role_kinds(rs["id"]) - kinds):
                    self.add(
                        [*here, "use"],
                        f"набор правил «{rs['id']}» адресует роль вида «{kind}», но в районе нет роли такого вида",
                    )
        for i, rule in enumerate(esc.get("rules") or []):
            here = ["escalation", "rules", i]
            known = {"role": roles, "role_kind": kinds, "block": blocks, "report": reports}
            for j, action in enumerate(rule.get("then", [])):
                for field, message in ACTION_REFERENCES.items():
                    if field in action and action[field] not in known[field]:
                        self.add(
                            [*here, "then", j, field],
                            f"правило «{rule['id']}»: {message.format(action[field])}",
                        )
            cond = (rule.get("when") or {}).get("block")
            values = cond.get("in", [cond.get("eq")]) if isinstance(cond, dict) else [cond]
            for value in values:
                if value is not None and value not in blocks:
                    self.add(
                        [*here, "when", "block"],
                        f"правило «{rule['id']}»: отраслевой блок «{value}» не определён",
                    )

    def kpi(self) -> None:
        for i, ind in enumerate((self.cfg.get("kpi") or {}).get("indicators") or []):
            here = ["kpi", "indicators", i]
            if ind.get("id") not in self.lib.indicators:
                self.add(
                    [*here, "id"],
                    f"показатель «{ind.get('id')}» не найден в каталоге rules/kpi/indicators.yaml",
                )
            targets = ind.get("targets") or {}
            years = list(targets)
            if years != sorted(years):
                self.add(
                    [*here, "targets"],
                    f"показатель «{ind.get('id')}»: годы указаны не по порядку ({', '.join(years)})",
                )
            for year, value in targets.items():
                if ind.get("unit") == "%" and isinstance(value, int | float) and not 0 <= value <= 100:
                    self.add(
                        [*here, "targets", year],
                        f"показатель «{ind.get('id')}», {year} год: {value}% — значение в процентах должно быть от 0 до 100",
                    )

    def reports(self) -> None:
        roles = self.ids("roles")
        kinds = {r.get("kind") for r in self.cfg.get("roles") or []}
        for i, rep in enumerate(self.cfg.get("reports") or []):
            if "responsible_role" in rep and rep["responsible_role"] not in roles:
                self.add(
                    ["reports", i, "responsible_role"],
                    f"отчёт «{rep['id']}»: роль «{rep['responsible_role']}» не определена в разделе roles",
                )
            if "responsible_role_kind" in rep and rep["responsible_role_kind"] not in kinds:
                self.add(
                    ["reports", i, "responsible_role_kind"],
                    f"отчёт «{rep['id']}»: в районе нет роли вида «{rep['responsible_role_kind']}»",
                )

    def settings(self) -> None:
        hours = (self.cfg.get("settings") or {}).get("working_hours")
        if isinstance(hours, dict) and hours.get("start", "") >= hours.get("end", "~"):
            self.add(["settings", "working_hours"], "рабочий день: начало должно быть раньше окончания")
        approval = (self.cfg.get("settings") or {}).get("roadmap_approval")
        if isinstance(approval, dict):
            roles = self.ids("roles")
            signers = [("agree", None, approval.get("agree"))] + [
                ("approve", j, role) for j, role in enumerate(approval.get("approve") or [])
            ]
            for key, j, role in signers:
                if role is not None and role not in roles:
                    path = ["settings", "roadmap_approval", key] + ([] if j is None else [j])
                    self.add(path, f"согласование дорожных карт: роль «{role}» не определена в разделе roles")

    def sources(self) -> None:
        acts = set(self.ids("acts")) | set(self.lib.acts)
        for path, source in _walk_sources(self.cfg, []):
            act = source.get("act")
            if isinstance(act, str) and act not in acts:
                self.add(
                    [*path, "act"],
                    f"источник ссылается на акт «{act}», которого нет ни в разделе acts, ни в rules/acts.yaml",
                )


def _walk_sources(node: Any, path: list[Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("source", "default_source") and isinstance(value, dict):
                yield [*path, key], value
            elif key in ("sources", "listed_in") and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        yield [*path, key, i], item
            elif key == "sources" and isinstance(value, dict):  # settings.sources: {setting: source}
                for name, item in value.items():
                    if isinstance(item, dict):
                        yield [*path, key, name], item
            else:
                yield from _walk_sources(value, [*path, key])
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk_sources(item, [*path, i])


def check(cfg: LocDict, lib: Library) -> list[Problem]:
    return _Checker(cfg, lib).run()
