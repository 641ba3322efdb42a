"""Bulk import of messages from another system's export: CSV, XLSX or JSON.

Owns three things: the column mappings (rules/import/*.yaml, data a regional admin edits), the
parsing of a file into numbered rows, and `import_file`, which turns each row into a `MessageIn`
and hands it to the one intake operation, `receive_message`, so an imported message is stored,
classified, routed and given its deadlines exactly as one delivered through the API.

A row that cannot become a message is reported with its number and Russian reasons and does not
stop the others. A file that cannot be read at all (or an unknown channel, or a broken mapping)
stops the import before anything is stored.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import logging
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlmodel import Session

from mcu.messages.bulk_intake import Checked, accept_many
from mcu.messages.operations import IntakeError, check_intake, receive_message
from mcu.messages.schemas import MessageIn, field_errors
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.yamlsrc import Loc, LocDict, Problem, load, locate

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "json")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json"}
_MIME = {
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/csv": "csv",
    "application/vnd.ms-excel": "csv",  # what Windows reports for .csv files
    XLSX_MIME: "xlsx",
    "application/json": "json",
    "text/json": "json",
}
DEFAULT_BATCH = 500
# A queued row costs the import some ten microseconds and a batch a transaction of its own (the
# staging table, the commit's flush): larger batches keep that overhead a small share.
QUEUED_BATCH = 5000
_DELIMITERS = (";", ",", "\t")

# MessageIn fields a mapping may fill, with the names the report uses for them. `received_time`
# is not a MessageIn field: journals (ЕДДС) keep the time apart from the date.
FIELDS: dict[str, str] = {
    "external_id": "Номер в системе-источнике",
    "received_at": "Дата поступления",
    "received_time": "Время поступления",
    "registered_at": "Дата регистрации",
    "text": "Текст сообщения",
    "subject": "Тема",
    "address": "Адрес",
    "settlement": "Поселение",
    "latitude": "Широта",
    "longitude": "Долгота",
    "block": "Отраслевой блок",
    "citizen.full_name": "ФИО заявителя",
    "citizen.phone": "Телефон",
    "citizen.email": "E-mail",
    "citizen.postal_address": "Почтовый адрес",
}
_MAPPING_KEYS = {
    "id",
    "name",
    "channel_kinds",
    "default",
    "timezone",
    "date_formats",
    "required",
    "columns",
    "append_to_text",
}


class ImportFileError(ValueError):
    """The import cannot start: nothing was stored. `field` names what to fix (file, channel…)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- column mappings
@dataclass(frozen=True)
class ColumnMapping:
    id: str
    name: str
    file: str
    channel_kinds: tuple[str, ...]
    default: bool
    timezone: str  # "tenant" or an IANA name
    date_formats: tuple[str, ...]
    required: frozenset[str]
    columns: dict[str, tuple[str, ...]]  # field → header spellings, preferred first
    append_to_text: tuple[tuple[str, tuple[str, ...]], ...]  # (label, header spellings)

    def tz(self, config: TenantConfig) -> ZoneInfo:
        return config.tz if self.timezone == "tenant" else ZoneInfo(self.timezone)

    def date_hint(self) -> str:
        words = {"%d": "ДД", "%m": "ММ", "%Y": "ГГГГ", "%y": "ГГ", "%H": "ЧЧ", "%M": "ММ", "%S": "СС"}
        shown = []
        for fmt in self.date_formats:
            if fmt == "iso":
                shown.append("ISO 8601 (2025-03-01T10:00:00+05:00)")
            else:
                shown.append(re.sub(r"%[dmYyHMS]", lambda m: words[m.group()], fmt))
        return ", ".join(shown)


def normalize_header(name: str) -> str:
    """Headers match whatever the exporting system did to case, «ё», spacing and a trailing «:»."""
    text = str(name).replace("\u00a0", " ").replace("ё", "е").replace("Ё", "Е")
    return re.sub(r"\s+", " ", text).strip().strip(":*").strip().casefold()


def _mapping_from(data: Any, file: str) -> tuple[ColumnMapping | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(path: list[Any], message: str) -> None:
        problems.append(Problem(locate(data, path), message))

    if not isinstance(data, LocDict):
        return None, [Problem(Loc(file, 1, 1), "ожидается словарь с ключами id, columns…")]
    for key in data:
        if key not in _MAPPING_KEYS:
            bad([key], f"неизвестный ключ «{key}» (допустимы: {', '.join(sorted(_MAPPING_KEYS))})")
    if not isinstance(data.get("id"), str):
        bad(["id"], "нужен идентификатор «id»")
    kinds = data.get("channel_kinds") or []
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        bad(["channel_kinds"], "ожидается список видов каналов (pos, edds…)")
        kinds = []
    timezone = data.get("timezone", "tenant")
    if timezone != "tenant":
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            bad(
                ["timezone"],
                f"неизвестный часовой пояс «{timezone}»: укажите tenant или, например, Europe/Moscow",
            )
    formats = data.get("date_formats") or ["iso"]
    if not isinstance(formats, list) or not all(
        isinstance(f, str) and (f == "iso" or "%" in f) for f in formats
    ):
        bad(["date_formats"], 'ожидается список форматов вида "%d.%m.%Y %H:%M" или iso')
        formats = ["iso"]
    columns: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    raw_columns = data.get("columns")
    if not isinstance(raw_columns, dict):
        bad(["columns"], "ожидается словарь «поле: [заголовки столбцов]»")
        raw_columns = {}
    for fld, names in raw_columns.items():
        if fld not in FIELDS:
            bad(["columns", fld], f"неизвестное поле «{fld}» (допустимы: {', '.join(FIELDS)})")
            continue
        names = [names] if isinstance(names, str) else names
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n.strip() for n in names)
        ):
            bad(["columns", fld], "ожидается непустой список заголовков столбцов")
            continue
        for i, name in enumerate(names):
            key = normalize_header(name)
            if key in seen and seen[key] != fld:
                bad(["columns", fld, i], f"заголовок «{name}» уже отнесён к полю «{seen[key]}»")
            seen[key] = fld
        columns[fld] = tuple(names)
    if "text" not in columns:
        bad(["columns"], "нужно поле text: без текста сообщение не принимается")
    required = data.get("required") or []
    if not isinstance(required, list) or any(r not in columns for r in required):
        bad(["required"], "обязательными могут быть только поля, перечисленные в columns")
        required = []
    appended: list[tuple[str, tuple[str, ...]]] = []
    for i, item in enumerate(data.get("append_to_text") or []):
        names = item.get("columns") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("label"), str)
            or not isinstance(names, list)
        ):
            bad(["append_to_text", i], "ожидается {label: …, columns: [заголовки]}")
            continue
        # A column may both fill a field and be appended: the IM post link is the external id
        # when the export has no incident number, and the executor needs to see it in the text.
        appended.append((item["label"], tuple(names)))
    if problems:
        return None, problems
    return ColumnMapping(
        id=data["id"],
        name=str(data.get("name") or data["id"]),
        file=file,
        channel_kinds=tuple(kinds),
        default=bool(data.get("default", False)),
        timezone=str(timezone),
        date_formats=tuple(formats),
        required=frozenset({"text", *required}),
        columns=columns,
        append_to_text=tuple(appended),
    ), []


def load_mappings(rules_dir: Path) -> tuple[dict[str, ColumnMapping], list[Problem]]:
    """Every mapping in rules/import/, by id; problems as `file:line:column: message`."""
    mappings: dict[str, ColumnMapping] = {}
    problems: list[Problem] = []
    folder = Path(rules_dir) / "import"
    claimed: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        display = f"rules/import/{path.name}"
        data, errs = load(path, display)
        problems.extend(errs)
        if data is None or errs:
            continue
        mapping, errs = _mapping_from(data, display)
        problems.extend(errs)
        if mapping is None:
            continue
        if mapping.id in mappings:
            problems.append(
                Problem(
                    locate(data, ["id"]),
                    f"сопоставление «{mapping.id}» уже описано в {mappings[mapping.id].file}",
                )
            )
            continue
        for kind in mapping.channel_kinds:
            if kind in claimed:
                problems.append(
                    Problem(
                        locate(data, ["channel_kinds"]), f"вид канала «{kind}» уже отнесён к {claimed[kind]}"
                    )
                )
            claimed[kind] = display
        mappings[mapping.id] = mapping
    return mappings, problems


def mapping_for_channel(rules_dir: Path, channel: dict[str, Any]) -> ColumnMapping:
    """The mapping of the channel's kind (pos → pos.yaml …), else the default (generic.yaml)."""
    mappings, problems = load_mappings(rules_dir)
    if problems:
        raise ImportFileError(
            "mapping", "сопоставление столбцов не читается: " + "; ".join(map(str, problems))
        )
    for mapping in mappings.values():
        if channel["kind"] in mapping.channel_kinds:
            return mapping
    for mapping in mappings.values():
        if mapping.default:
            return mapping
    raise ImportFileError(
        "mapping",
        f"нет сопоставления столбцов для канала вида «{channel['kind']}» "
        "и нет сопоставления по умолчанию (default: true) в rules/import/",
    )


# ---------------------------------------------------------------- parsing
@dataclass
class SourceRow:
    number: int  # line of a CSV file, row of the sheet, position of a JSON item; 1-based
    values: dict[str, Any]
    problem: str | None = None  # why the row could not be read at all


@dataclass
class ParsedFile:
    fmt: str
    headers: list[str]
    rows: list[SourceRow]
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def detect_format(filename: str | None = None, content_type: str | None = None) -> str | None:
    """csv / xlsx / json from a file name's extension, else from a MIME type."""
    if filename:
        fmt = _EXTENSIONS.get(Path(filename).suffix.lower())
        if fmt:
            return fmt
    if content_type:
        return _MIME.get(content_type.split(";")[0].strip().lower())
    return None


def _decode(raw: bytes) -> tuple[str, str, list[str]]:
    """Text of a CSV or JSON file: UTF-8 (with or without BOM) or UTF-16 with a BOM, else
    Windows-1251.

    A file that is UTF-8 except for a few lines (rows pasted from another file) stays UTF-8;
    its broken characters become U+FFFD and those rows are rejected for their encoding.
    """
    try:
        return raw.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        pass
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's «Текст Юникод» is UTF-16 with a BOM
        try:
            return raw.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass
    non_ascii = [line for line in raw.split(b"\n") if not line.isascii()]
    valid = sum(1 for line in non_ascii if _is_utf8(line))
    if valid * 2 > len(non_ascii):
        return (
            raw.decode("utf-8-sig", errors="replace"),
            "utf-8",
            [f"файл в UTF-8, но {len(non_ascii) - valid} строк(и) в другой кодировке: они отклонены"],
        )
    # cp1251 leaves only 0x98 undefined: anything else decodes, so this is the last resort.
    return (
        raw.decode("cp1251", errors="replace"),
        "cp1251",
        ["файл не в кодировке UTF-8: прочитан как Windows-1251 (cp1251)"],
    )


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unique(headers: list[str]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(headers):
        name = (name or "").strip() or f"столбец {i + 1}"
        base, n = name, 2
        while name in out:
            name, n = f"{base} ({n})", n + 1
        out.append(name)
    return out


def _delimiter(header_line: str) -> str:
    """The delimiter the header uses most, counted outside quotes; csv.Sniffer as a tie-break."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts.values())
    winners = [d for d, c in counts.items() if c == best]
    if best and len(winners) == 1:
        return winners[0]
    try:
        return csv.Sniffer().sniff(header_line, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        return ";"


def _lines_from(lines: list[str], start: int) -> Iterator[str]:
    for i in range(start, len(lines)):
        yield lines[i]


def parse_csv(raw: bytes) -> ParsedFile:
    text, encoding, notes = _decode(raw)
    if "\x00" in text:
        raise ImportFileError(
            "file", "файл содержит нулевые байты: это не текстовая таблица (может быть, XLSX?)"
        )
    # Split on "\n" only: str.splitlines would also break inside a text at \u2028 or a form feed.
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise ImportFileError("file", "файл пуст: нет строки заголовков")
    delimiter = _delimiter(lines[start])
    try:
        headers = _unique(next(csv.reader([lines[start]], delimiter=delimiter)))
    except csv.Error as exc:
        raise ImportFileError("file", f"строка заголовков {start + 1} не читается: {exc}") from exc
    if len(headers) < 2:
        raise ImportFileError(
            "file",
            "в строке заголовков один столбец: разделитель не распознан (ожидается «;», «,» или табуляция)",
        )
    shown = "табуляция" if delimiter == "\t" else f"«{delimiter}»"
    rows: list[SourceRow] = []
    i = start + 1
    # One reader goes on from record to record (a record may span lines: a quoted text with line
    # breaks); after a broken record or a blank line a fresh one starts at the next line.
    reader, read = None, 0
    while i < len(lines):
        if not lines[i].strip():
            i, reader = i + 1, None
            continue
        if reader is None:
            reader, read = csv.reader(_lines_from(lines, i), delimiter=delimiter), 0
        try:
            record = next(reader)
            used, read = reader.line_num - read, reader.line_num
        except (csv.Error, StopIteration) as exc:
            rows.append(SourceRow(i + 1, {}, f"строка повреждена: {exc}"))
            i, reader = i + 1, None
            continue
        while len(record) > len(headers) and not record[-1].strip():
            record.pop()  # a trailing delimiter adds an empty field, not data
        if len(record) != len(headers):
            # An unclosed quote swallows the following lines into one field: report this line
            # and read the next ones afresh, so one broken row costs one row.
            rows.append(
                SourceRow(
                    i + 1,
                    {},
                    f"строка повреждена: ожидалось полей {len(headers)}, прочитано "
                    f"{len(record)} — проверьте кавычки и разделитель {shown}",
                )
            )
            i, reader = i + 1, None
            continue
        rows.append(SourceRow(i + 1, dict(zip(headers, record, strict=True))))
        i += used
    return ParsedFile("csv", headers, rows, encoding, notes)


def parse_xlsx(raw: bytes) -> ParsedFile:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Real exports trip openpyxl's warnings (unknown extensions, no default style): harmless here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportFileError("file", f"файл не читается как книга Excel (XLSX): {exc}") from exc
    try:
        if not book.worksheets:
            raise ImportFileError("file", "в книге нет листов")
        sheet = book.worksheets[0]
        # Some exporters write a wrong sheet size; read what is there instead.
        sheet.reset_dimensions()
        headers: list[str] | None = None
        rows: list[SourceRow] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, cells in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
                if all(_blank(c) for c in cells):
                    continue
                if headers is None:
                    width = max(i for i, c in enumerate(cells) if not _blank(c)) + 1
                    headers = _unique([_cell_text(c) or "" for c in cells[:width]])
                    continue
                padded = list(cells[: len(headers)]) + [None] * (len(headers) - len(cells))
                rows.append(SourceRow(number, dict(zip(headers, padded, strict=True))))
    finally:
        book.close()
    if headers is None:
        raise ImportFileError("file", f"первый лист «{sheet.title}» пуст: нет строки заголовков")
    return ParsedFile("xlsx", headers, rows)


def _flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def parse_json(raw: bytes) -> ParsedFile:
    text, encoding, notes = _decode(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            "file", f"JSON не читается: строка {exc.lineno}, позиция {exc.colno}: {exc.msg}"
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise ImportFileError("file", 'ожидается JSON-массив объектов или объект {"items": [...]}')
    headers: dict[str, None] = {}
    rows: list[SourceRow] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            rows.append(SourceRow(number, {}, 'запись повреждена: ожидается объект {"поле": значение}'))
            continue
        values = _flatten(item)
        headers.update(dict.fromkeys(values))
        rows.append(SourceRow(number, values))
    return ParsedFile("json", list(headers), rows, encoding, notes)


PARSERS: dict[str, Callable[[bytes], ParsedFile]] = {"csv": parse_csv, "xlsx": parse_xlsx, "json": parse_json}


def parse_file(raw: bytes, fmt: str) -> ParsedFile:
    if fmt not in PARSERS:
        raise ImportFileError("format", f"формат «{fmt}» не поддерживается: csv, xlsx или json")
    if not raw.strip():
        raise ImportFileError("file", "файл пуст")
    return PARSERS[fmt](raw)


# ---------------------------------------------------------------- rows → MessageIn
def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(value: Any) -> str | None:
    if type(value) is str:  # nearly every cell of a CSV or JSON file: the short way
        text = value.strip()
        if not text:
            return None
        # Windows line ends inside a quoted cell are one line break, as in any text the API takes.
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
    if _blank(value):
        return None
    if isinstance(value, bool):
        return "да" if value else "нет"
    # Spreadsheets keep numbers (ids, phones) as floats: 79161234567.0 is "79161234567".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return _cell_text(str(value))


@dataclass
class _Binding:
    """Which of the file's columns feed each field: those present, in the mapping's order."""

    columns: dict[str, list[str]]
    appended: list[tuple[str, list[str]]]
    ignored: list[str]
    # Worked out once for the file rather than for each row:
    required: tuple[str, ...] = ()  # required fields besides the text, sorted
    citizen: tuple[str, ...] = ()  # the bound citizen.* fields


def _bind(mapping: ColumnMapping, headers: list[str]) -> _Binding:
    by_key: dict[str, list[str]] = {}
    for header in headers:
        by_key.setdefault(normalize_header(header), []).append(header)
    used: set[str] = set()

    def present(names: tuple[str, ...]) -> list[str]:
        found = [h for name in names for h in by_key.get(normalize_header(name), [])]
        used.update(found)
        return found

    columns = {fld: present(names) for fld, names in mapping.columns.items()}
    appended = [(label, present(names)) for label, names in mapping.append_to_text]
    missing = [
        fld
        for fld in sorted(mapping.required)
        if not columns.get(fld) and not (fld == "received_at" and columns.get("registered_at"))
    ]
    if missing:
        wanted = "; ".join(f"«{FIELDS[f]}» — один из: {', '.join(mapping.columns[f])}" for f in missing)
        raise ImportFileError(
            "file",
            f"в файле нет нужных столбцов ({wanted}). Столбцы файла: "
            f"{', '.join(headers) or 'нет'}. Сопоставление: {mapping.file}",
        )
    bound = {f: c for f, c in columns.items() if c}
    return _Binding(
        bound,
        [(lbl, c) for lbl, c in appended if c],
        [h for h in headers if h not in used],
        required=tuple(sorted(mapping.required - {"text"})),
        citizen=tuple(f for f in bound if f.startswith("citizen.")),
    )


@dataclass
class _Built:
    data: MessageIn | None
    reasons: list[str]
    warnings: list[str]
    columns: dict[str, str]  # field → the column its value came from


def _first(row: dict[str, Any], headers: list[str]) -> tuple[Any, str | None]:
    for header in headers:
        value = row.get(header)
        if not _blank(value):
            return value, header
    return None, (headers[0] if headers else None)


def _label(fld: str, columns: dict[str, str]) -> str:
    label = FIELDS.get(fld) or {"channel": "Канал", "body": "Строка"}.get(fld, fld)
    column = columns.get(fld)
    if column and normalize_header(column) != normalize_header(label):
        return f"{label} (столбец «{column}»)"
    return label


def _parse_datetime(value: Any, mapping: ColumnMapping, tz: ZoneInfo) -> tuple[datetime | None, bool]:
    """(moment, has_time). Naive values are in the mapping's timezone (the tenant's by default)."""
    if isinstance(value, datetime):
        parsed, has_time = value, True
    elif isinstance(value, date):
        parsed, has_time = datetime.combine(value, time()), False
    else:
        text = " ".join(str(value).split())
        parsed, has_time = None, True
        for fmt in mapping.date_formats:
            if fmt == "iso":
                try:
                    parsed = datetime.fromisoformat(text)
                except ValueError:
                    continue
                has_time = "T" in text or ":" in text
                break
            parsed = _strptime(text, fmt)
            if parsed is not None:
                has_time = _has_time(fmt)
                break
        if parsed is None:
            return None, False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed, has_time


# CPython's own patterns for the directives date formats of exports use (Lib/_strptime.py): a
# format made of these alone is matched by one compiled expression, a quarter of what
# datetime.strptime spends on it — and a file has a date in every row. Any other directive goes
# to strptime itself.
_DIRECTIVES = {
    "d": r"(?P<d>3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
    "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
    "Y": r"(?P<Y>\d\d\d\d)",
    "y": r"(?P<y>\d\d)",
    "H": r"(?P<H>2[0-3]|[0-1]\d|\d)",
    "M": r"(?P<M>[0-5]\d|\d)",
    "S": r"(?P<S>6[0-1]|[0-5]\d|\d)",
}


@functools.cache
def _format_pattern(fmt: str) -> re.Pattern[str] | None:
    """`fmt` as strptime would compile it, or None when it uses a directive not in _DIRECTIVES."""
    parts, seen, i = [], set(), 0
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i + 1 : i + 2]
            if directive not in _DIRECTIVES or directive in seen:
                return None
            seen.add(directive)
            parts.append(_DIRECTIVES[directive])
            i += 2
        elif fmt[i].isspace():
            while i < len(fmt) and fmt[i].isspace():
                i += 1
            parts.append(r"\s+")
        else:
            parts.append(re.escape(fmt[i]))
            i += 1
    return re.compile("".join(parts), re.IGNORECASE)


@functools.cache
def _has_time(fmt: str) -> bool:
    return any(d in fmt for d in ("%H", "%M", "%S"))


def _strptime(text: str, fmt: str) -> datetime | None:
    """datetime.strptime(text, fmt), or None where it raises ValueError; faster for the formats
    of exports, and without an exception for each format a row's date does not have."""
    pattern = _format_pattern(fmt)
    if pattern is None:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            return None
    found = pattern.match(text)  # match, then the length: the first match as strptime takes it
    if found is None or found.end() != len(text):
        return None
    parts = found.groupdict()
    if parts.get("Y") is not None:
        year = int(parts["Y"])
    elif parts.get("y") is not None:
        year = int(parts["y"])
        year += 2000 if year <= 68 else 1900  # POSIX, as strptime
    else:
        year = 1900
    try:
        return datetime(
            year,
            int(parts.get("m") or 1),
            int(parts.get("d") or 1),
            int(parts.get("H") or 0),
            int(parts.get("M") or 0),
            int(parts.get("S") or 0),
        )
    except ValueError:  # 31.02, or a leap second: strptime refuses them too
        return None


def _parse_time(value: Any) -> time | None:
    if isinstance(value, time):
        return value
    if isinstance(value, datetime):
        return value.time()
    for fmt in ("%H:%M:%S", "%H:%M", "%H.%M"):
        try:
            return datetime.strptime(str(value).strip(), fmt).time()
        except ValueError:
            continue
    return None


def _number(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace(",", ".")
        try:
            return float(text)
        except ValueError:
            return value.strip()  # MessageIn says what is wrong with it
    return value


def build_message(
    row: SourceRow, binding: _Binding, mapping: ColumnMapping, *, channel_id: str, tz: ZoneInfo
) -> _Built:
    """One row as MessageIn, or the reasons (in Russian) why it cannot be one."""
    reasons: list[str] = []
    notes: list[str] = []
    values: dict[str, Any] = {}
    columns: dict[str, str] = {}
    for fld, headers in binding.columns.items():
        value, column = _first(row.values, headers)
        if column:
            columns[fld] = column
        if value is not None:
            values[fld] = value
    for fld, value in values.items():
        if isinstance(value, str) and "\ufffd" in value:
            reasons.append(
                f"{_label(fld, columns)}: битая кодировка — символы не прочитались "
                "(сохраните файл в UTF-8 или Windows-1251 целиком)"
            )
    if reasons:
        return _Built(None, reasons, notes, columns)

    text = _cell_text(values.get("text"))
    if text is None:
        reasons.append(f"{_label('text', columns)}: пусто — строка без текста не импортируется")
    from_registration = "received_at" not in values and "registered_at" in values
    if from_registration:
        # A registry (СЭД) may give only its registration date: the message cannot have come in
        # later than it was registered, and an обращение's term runs from registration anyway.
        values["received_at"], columns["received_at"] = values["registered_at"], columns["registered_at"]
    missing = [f for f in binding.required if f not in values]
    reasons.extend(f"{_label(f, columns)}: не заполнено" for f in missing)

    data: dict[str, Any] = {"channel": channel_id, "text": text or ""}
    if "received_at" in values:
        raw = values["received_at"]
        received, has_time = _parse_datetime(raw, mapping, tz)
        if received is None:
            reasons.append(
                f"{_label('received_at', columns)}: «{_cell_text(raw)}» не распознана как дата "
                f"(ожидается {mapping.date_hint()})"
            )
        else:
            if not has_time and "received_time" in values:
                moment = _parse_time(values["received_time"])
                if moment is None:
                    reasons.append(
                        f"{_label('received_time', columns)}: «{_cell_text(values['received_time'])}» "
                        "не распознано как время (ожидается ЧЧ:ММ)"
                    )
                else:
                    received = received.replace(hour=moment.hour, minute=moment.minute, second=moment.second)
            data["received_at"] = received
    if "registered_at" in values:
        registered, has_time = _parse_datetime(values["registered_at"], mapping, tz)
        received = data.get("received_at")
        # A registry that keeps only the day registered it that day, not at midnight before the
        # message came in.
        if (
            registered is not None
            and received is not None
            and not has_time
            and registered.date() == received.astimezone(registered.tzinfo).date()
        ):
            registered = max(registered, received)
        if registered is None and not from_registration:  # else already reported as the received date
            reasons.append(
                f"{_label('registered_at', columns)}: «{_cell_text(values['registered_at'])}» не распознана "
                f"как дата (ожидается {mapping.date_hint()})"
            )
        data["registered_at"] = registered
    for fld in ("external_id", "subject", "address", "settlement", "block"):
        if fld in values:
            data[fld] = _cell_text(values[fld])
    for fld in ("latitude", "longitude"):
        if fld in values:
            data[fld] = _number(values[fld])
    citizen = {f.split(".", 1)[1]: _cell_text(values[f]) for f in binding.citizen if f in values}
    if citizen:
        data["citizen"] = citizen
    for label, headers in binding.appended:
        extra, _ = _first(row.values, headers)
        if extra is not None and text:
            data["text"] = f"{data['text']}\n\n{label}: {_cell_text(extra)}"
    if reasons:
        return _Built(None, reasons, notes, columns)
    if "external_id" not in data and "received_at" not in data:
        # Without either, intake would stamp «now» and a second run would store the row again.
        data["external_id"] = "import:" + _row_digest(data)
        notes.append("нет даты поступления: принята дата импорта")
    try:
        return _Built(MessageIn.model_validate(data), [], notes, columns)
    except ValidationError as exc:
        for path, messages in field_errors(exc).items():
            reasons.extend(f"{_label(path, columns)}: {m}" for m in messages)
        return _Built(None, reasons, notes, columns)


def _row_digest(data: dict[str, Any]) -> str:
    citizen = data.get("citizen") or {}
    key = "|".join(
        str(v or "")
        for v in (
            data["channel"],
            data["text"],
            data.get("address"),
            citizen.get("full_name"),
            citizen.get("phone"),
            citizen.get("email"),
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:40]


# ---------------------------------------------------------------- the import
@dataclass
class RowIssue:
    row: int
    reasons: list[str]
    values: dict[str, Any] = field(default_factory=dict, repr=False)  # the source row, for a rejects file


@dataclass
class ImportReport:
    fmt: str
    channel: str
    mapping: str  # rules/import/<file>
    encoding: str | None = None
    total: int = 0
    created: int = 0
    existing: int = 0
    rejected: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def row_word(self) -> str:
        return "запись" if self.fmt == "json" else "строка"

    def as_dict(self) -> dict[str, Any]:
        """The report as the API returns it: no source values (they hold personal data)."""
        return {
            "format": self.fmt,
            "channel": self.channel,
            "mapping": self.mapping,
            "encoding": self.encoding,
            "total": self.total,
            "created": self.created,
            "existing": self.existing,
            "rejected": [{"row": r.row, "reasons": r.reasons} for r in self.rejected],
            "warnings": [{"row": w.row, "reasons": w.reasons} for w in self.warnings],
            "notes": self.notes,
            "ignored_columns": self.ignored_columns,
        }


def _read(source: str | Path | bytes | IO[bytes]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise ImportFileError("file", f"файл не читается: {exc.strerror or exc}") from exc
    return source.read()


def import_file(
    *,
    session: Session,
    config: TenantConfig,
    channel_id: str,
    source: str | Path | bytes | IO[bytes],
    fmt: str,
    actor: str,
    rules_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int | None = None,
    queued: bool = False,
) -> ImportReport:
    """Import every row of an export into the tenant's channel; report what became of each.

    With `queued`, each row is checked as intake checks it and stored in the intake queue
    (mcu.messages.bulk_intake: COPY on PostgreSQL) a batch at a time; the worker then
    classifies, routes and sets the terms. `created` then counts rows queued, `existing` rows
    queued by an earlier run.

    Unlike other operations this one commits: an import is a job of up to many thousand rows,
    not one request's unit of work. It commits every `batch_size` rows (DEFAULT_BATCH, queued
    QUEUED_BATCH); each row is stored inside its own savepoint, a queued batch by one statement,
    so a rejected row leaves nothing behind and a failure late in a large file keeps the batches
    before it — running the file again resumes, as every row already stored is found by its
    external id and counted as already present.

    Raises ImportFileError before storing anything when the channel is unknown, the mapping
    is broken or the file cannot be read as a table.
    """
    channel = config.channels.get(channel_id)
    if channel is None:
        raise ImportFileError(
            "channel",
            f"канал «{channel_id}» не настроен в районе {config.slug} (есть: {', '.join(config.channels)})",
        )
    mapping = mapping_for_channel(rules_dir, channel)
    parsed = parse_file(_read(source), fmt)
    binding = _bind(mapping, parsed.headers)
    tz = mapping.tz(config)
    report = ImportReport(
        fmt=parsed.fmt,
        channel=channel_id,
        mapping=mapping.file,
        encoding=parsed.encoding,
        total=len(parsed.rows),
        notes=list(parsed.notes),
        headers=parsed.headers,
        ignored_columns=binding.ignored,
    )
    if binding.ignored:
        report.notes.append(f"столбцы не используются: {', '.join(binding.ignored)}")
    batch_size = batch_size or (QUEUED_BATCH if queued else DEFAULT_BATCH)
    first_seen: dict[str, int] = {}
    pending: list[tuple[int, Checked, list[str]]] = []
    now = utcnow()
    for done, row in enumerate(parsed.rows, start=1):
        if queued:
            _check_row(config, row, binding, mapping, tz, channel_id, now, report, pending)
        else:
            _import_row(session, config, row, binding, mapping, tz, channel_id, actor, report, first_seen)
        if done % batch_size == 0:
            _queue(session, config, pending, actor, now, report, first_seen)
            session.commit()
        # A queued row takes microseconds: there the bar moves by batches, as they are stored.
        if progress is not None and (not queued or done % batch_size == 0):
            progress(done, report.total)
    _queue(session, config, pending, actor, now, report, first_seen)
    session.commit()
    if progress is not None and queued and report.total % batch_size:
        progress(report.total, report.total)
    log.info(
        "import into %s/%s: %d rows, %d created, %d existing, %d rejected",
        config.slug,
        channel_id,
        report.total,
        report.created,
        report.existing,
        len(report.rejected),
    )
    return report


def _check_row(
    config: TenantConfig,
    row: SourceRow,
    binding: _Binding,
    mapping: ColumnMapping,
    tz: ZoneInfo,
    channel_id: str,
    now: datetime,
    report: ImportReport,
    pending: list[tuple[int, Checked, list[str]]],
) -> None:
    """A row for the queue: mapped and checked as intake checks it, else rejected with why."""
    built = _built(row, binding, mapping, channel_id, tz, report)
    if built is None:
        return
    try:
        checked = (built.data, *check_intake(config, built.data, now))
    except IntakeError as exc:
        report.rejected.append(
            RowIssue(row.number, [f"{_label(exc.field, built.columns)}: {exc}"], row.values)
        )
        return
    pending.append((row.number, checked, list(built.warnings)))


def _queue(
    session: Session,
    config: TenantConfig,
    pending: list[tuple[int, Checked, list[str]]],
    actor: str,
    now: datetime,
    report: ImportReport,
    first_seen: dict[str, int],
) -> None:
    """Store the checked rows in the intake queue at once; each row counted as queued now or
    found queued by an earlier run, a repeat within the file noted."""
    if not pending:
        return
    fresh = accept_many(
        session=session, config=config, items=[c for _, c, _ in pending], actor=actor, now=now
    )
    for (number, _, notes), (key, created) in zip(pending, fresh, strict=True):
        _tally(report, first_seen, number, key, created, notes)
    pending.clear()


def _built(
    row: SourceRow,
    binding: _Binding,
    mapping: ColumnMapping,
    channel_id: str,
    tz: ZoneInfo,
    report: ImportReport,
) -> _Built | None:
    """The row mapped onto a message, or None with the row rejected and why."""
    if row.problem is not None:
        report.rejected.append(RowIssue(row.number, [row.problem], row.values))
        return None
    built = build_message(row, binding, mapping, channel_id=channel_id, tz=tz)
    if built.data is None:
        report.rejected.append(RowIssue(row.number, built.reasons, row.values))
        return None
    return built


def _tally(
    report: ImportReport, first_seen: dict[str, int], number: int, key: str, created: bool, notes: list[str]
) -> None:
    """Count a stored row as new or already present; a key repeated within the file is noted and
    counted once."""
    if key in first_seen:
        notes.append(
            f"повторяет {report.row_word} {first_seen[key]} этого файла (номер «{key}»): сохранена один раз"
        )
        created = False
    else:
        first_seen[key] = number
    if created:
        report.created += 1
    else:
        report.existing += 1
    if notes:
        report.warnings.append(RowIssue(number, notes))


def _import_row(
    session: Session,
    config: TenantConfig,
    row: SourceRow,
    binding: _Binding,
    mapping: ColumnMapping,
    tz: ZoneInfo,
    channel_id: str,
    actor: str,
    report: ImportReport,
    first_seen: dict[str, int],
) -> None:
    def reject(reasons: list[str]) -> None:
        report.rejected.append(RowIssue(row.number, reasons, row.values))

    built = _built(row, binding, mapping, channel_id, tz, report)
    if built is None:
        return
    data = built.data
    try:
        with session.begin_nested():
            result = receive_message(session=session, config=config, data=data, actor=actor)
    except IntakeError as exc:
        return reject([f"{_label(exc.field, built.columns)}: {exc}"])
    except Exception:
        # One row must not stop the file; the savepoint has undone whatever the row began.
        log.exception("import row %d into %s/%s failed", row.number, config.slug, channel_id)
        return reject(["внутренняя ошибка при сохранении строки (подробности — в журнале сервера)"])
    notes = list(built.warnings)
    if result.created and data.settlement and result.message.settlement_id is None:
        notes.append(
            f"поселение «{data.settlement}» не найдено в справочнике района: сообщение принято без поселения"
        )
    _tally(report, first_seen, row.number, result.message.external_id, result.created, notes)


__all__ = [
    "FORMATS",
    "XLSX_MIME",
    "ColumnMapping",
    "ImportFileError",
    "ImportReport",
    "RowIssue",
    "detect_format",
    "import_file",
    "load_mappings",
    "mapping_for_channel",
    "parse_file",
]
