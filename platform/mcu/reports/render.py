"""A report document → the files people open: XLSX, CSV, PDF and JSON, in Russian.

- XLSX (openpyxl): a title sheet, then one sheet per section; numbers are numbers and dates are
  dates (with Russian formats), headings bold, column widths fitted, a lone table filterable.
- CSV: UTF-8 with a BOM and `;` between fields, decimal comma — what Russian Excel and
  LibreOffice open without an import dialog.
- PDF (fpdf2): A4, landscape when a table is wide, in a TTF font with Cyrillic (DejaVu Sans by
  default, the setting REPORT_FONT); a missing font is a clear error, not a PDF of blanks.
- JSON: the document as stored.

Texts from outside (social-media posts quoted in the media report) are data, never markup or
formulas: a cell starting with «=» stays text in XLSX and is quoted in CSV.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

# fpdf2 subsets the font through fontTools, which logs every table it touches at INFO: dozens
# of lines per PDF in the worker's and the web server's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json; charset=utf-8",
}
NUMERIC = ("int", "number", "percent")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class RenderError(RuntimeError):
    """An export that cannot be made on this installation (e.g. no font for the PDF)."""


# ---------------------------------------------------------------- values
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _moment(value: Any, kind: str) -> datetime | date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        if kind == "date":
            return date.fromisoformat(value[:10])
        # Local time as the district reads it; spreadsheets have no time zones.
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def _decimal(value: float) -> str:
    text = f"{value:.2f}"
    return (text[:-1] if text.endswith("0") else text).replace(".", ",")


def text(value: Any, kind: str = "text", *, empty: str = "") -> str:
    """A cell as Russian text (CSV, PDF)."""
    if value is None or value == "":
        return empty
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _decimal(value)
    if kind in ("date", "datetime"):
        moment = _moment(value, kind)
        if moment is not None:
            return moment.strftime("%d.%m.%Y" if kind == "date" else "%d.%m.%Y %H:%M")
    return str(value)


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "Лист"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


# ---------------------------------------------------------------- XLSX
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADING = Font(bold=True, size=12)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
MIN_WIDTH, MAX_WIDTH = 6, 60


def xlsx(doc: dict[str, Any]) -> bytes:
    wb = Workbook()
    used: set[str] = set()
    title = wb.active
    title.title = _sheet_name("Титул", used)
    _put(title["A1"], doc["title"], "text").font = TITLE
    title["A1"].alignment = WRAP_TOP
    title.merge_cells("A1:B1")
    title.row_dimensions[1].height = 20 * (len(doc["title"]) // 75 + 1)  # 14 pt: fewer, taller lines
    row = 3
    for label, value in doc.get("subtitle", []):
        title.cell(row=row, column=1, value=label).font = BOLD
        title.cell(row=row, column=1).alignment = TOP
        _put(title.cell(row=row, column=2), value, "text").alignment = WRAP_TOP
        _fit_height(title, row, [(str(value), 100)])
        row += 1
    row += 1
    title.cell(row=row, column=1, value="Разделы").font = BOLD
    sheets = [_sheet_name(s.get("sheet") or s["heading"], used) for s in doc["sections"]]
    for s, name in zip(doc["sections"], sheets, strict=True):
        row += 1
        title.cell(row=row, column=1, value=name)
        _put(title.cell(row=row, column=2), s["heading"], "text")
    title.column_dimensions["A"].width = 22
    title.column_dimensions["B"].width = 100
    _print_setup(title, landscape=False)
    for s, name in zip(doc["sections"], sheets, strict=True):
        _section_sheet(wb.create_sheet(name), s)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _put(cell: Any, value: Any, kind: str) -> Any:
    if value is None or value == "":
        return cell
    if kind in ("date", "datetime"):
        moment = _moment(value, kind)
        if moment is not None:
            cell.value = moment
            cell.number_format = "DD.MM.YYYY" if kind == "date" else "DD.MM.YYYY HH:MM"
            return cell
    if _is_number(value):
        cell.value = value
        cell.number_format = "0" if isinstance(value, int) else "0.0#"
        return cell
    cell.value = value if isinstance(value, str) else text(value, kind)
    # openpyxl takes a string starting with «=» for a formula: a quoted post must stay text.
    cell.data_type = "s"
    return cell


def _section_sheet(ws: Any, s: dict[str, Any]) -> None:
    tables = s["tables"]
    widths = _xlsx_widths(tables)
    span = max(len(widths), 1)
    line = max(sum(widths.values()), 60)  # characters in a paragraph's line
    if len(widths) < 2:  # no table to borrow width from: paragraphs get a wide column of their own
        widths[1] = max(widths.get(1, 0), 100)
        line = widths[1]
    ws["A1"] = s["heading"]
    ws["A1"].font = HEADING
    row = 2
    for paragraph in s["paragraphs"]:
        # Merged over the table's width and wrapped: a paragraph left to overflow to the right
        # would stretch the printed page to its length.
        cell = _put(ws.cell(row=row, column=1), paragraph, "text")
        cell.alignment = WRAP_TOP
        if span > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
        _fit_height(ws, row, [(paragraph, line)])
        row += 1
    for t in tables:
        row += 1
        if t.get("title"):
            ws.cell(row=row, column=1, value=t["title"]).font = BOLD
            row += 1
        header = row
        for i, c in enumerate(t["columns"], start=1):
            cell = ws.cell(row=row, column=i, value=c["title"])
            cell.font, cell.fill, cell.border, cell.alignment = BOLD, HEADER_FILL, BOX, WRAP_TOP
        _fit_height(ws, row, [(c["title"], widths[i]) for i, c in enumerate(t["columns"], start=1)])
        for values in t["rows"]:
            row += 1
            long = []
            for i, (c, value) in enumerate(zip(t["columns"], values, strict=False), start=1):
                cell = _put(ws.cell(row=row, column=i), value, c["type"])
                cell.border, cell.alignment = BOX, TOP
                if c["type"] == "text" and isinstance(value, str) and len(value) > widths[i] - 2:
                    cell.alignment = WRAP_TOP
                    long.append((value, widths[i]))
            _fit_height(ws, row, long)
        if len(tables) == 1 and t["rows"]:
            ws.freeze_panes = ws.cell(row=header + 1, column=1)
            ws.auto_filter.ref = f"A{header}:{get_column_letter(len(t['columns']))}{row}"
        row += 1
    for i, width in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = width
    _print_setup(ws, landscape=sum(widths.values()) > 100)


def _fit_height(ws: Any, row: int, texts: list[tuple[str, int]]) -> None:
    """Row height for wrapped text: spreadsheets do not grow a row for merged cells, and not all
    of them do it on opening a file."""
    lines = max((len(value) // max(width - 2, 1) + 1 for value, width in texts), default=1)
    if lines > 1:
        ws.row_dimensions[row].height = 15 * lines


def _xlsx_widths(tables: list[dict[str, Any]]) -> dict[int, int]:
    """Column widths in characters: the longest value (headings wrap), within bounds."""
    widths: dict[int, int] = {}
    for t in tables:
        for i, c in enumerate(t["columns"], start=1):
            widths[i] = max(widths.get(i, 0), min(len(c["title"]), 24))
        for values in t["rows"]:
            for i, (c, value) in enumerate(zip(t["columns"], values, strict=False), start=1):
                widths[i] = max(widths[i], len(text(value, c["type"])))
    return {i: max(MIN_WIDTH, min(w + 2, MAX_WIDTH)) for i, w in widths.items()}


def _print_setup(ws: Any, *, landscape: bool) -> None:
    """Printed (or exported to PDF by LibreOffice) a sheet fits the page width."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


# ---------------------------------------------------------------- CSV
def _csv_cell(value: Any, kind: str) -> str:
    shown = text(value, kind)
    if kind not in NUMERIC and kind not in ("date", "datetime") and shown.startswith(FORMULA_START):
        return "'" + shown  # a spreadsheet must not run it (CSV injection)
    return shown


def csv_bytes(doc: dict[str, Any]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow([_csv_cell(doc["title"], "text")])
    for label, value in doc.get("subtitle", []):
        w.writerow([label, _csv_cell(value, "text")])
    for s in doc["sections"]:
        w.writerow([])
        w.writerow([_csv_cell(s["heading"], "text")])
        for paragraph in s["paragraphs"]:
            w.writerow([_csv_cell(paragraph, "text")])
        for t in s["tables"]:
            if t.get("title"):
                w.writerow([_csv_cell(t["title"], "text")])
            w.writerow([c["title"] for c in t["columns"]])
            for values in t["rows"]:
                w.writerow([_csv_cell(v, c["type"]) for c, v in zip(t["columns"], values, strict=False)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- PDF
class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Report", "", 7)
        self.cell(0, 4, f"стр. {self.page_no()} из {{nb}}", align="R")


def pdf(doc: dict[str, Any], *, font: str) -> bytes:
    regular = Path(font)
    if not regular.is_file():
        raise RenderError(
            f"Шрифт для PDF не найден: {regular}. Установите пакет fonts-dejavu-core или укажите путь к "
            "TTF-шрифту с кириллицей в настройке REPORT_FONT (переменная окружения MCU_REPORT_FONT)."
        )
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    wide = max((len(t["columns"]) for s in doc["sections"] for t in s["tables"]), default=0) > 6
    p = _Pdf(orientation="L" if wide else "P", unit="mm", format="A4")
    p.set_margins(12, 12, 12)
    p.set_auto_page_break(True, margin=14)
    p.add_font("Report", "", str(regular))
    p.add_font("Report", "B", str(bold if bold.is_file() else regular))
    p.set_title(doc["title"][:200])
    p.set_creator("Платформа МЦУ")
    p.add_page()
    p.set_font("Report", "B", 13)
    p.multi_cell(0, 6.5, doc["title"], align="L", new_x="LMARGIN", new_y="NEXT")
    p.ln(2)
    for label, value in doc.get("subtitle", []):
        p.set_font("Report", "B", 9)
        p.multi_cell(0, 4.6, f"{label}: ", align="L", new_x="END", new_y="TOP")
        p.set_font("Report", "", 9)
        p.multi_cell(0, 4.6, str(value), align="L", new_x="LMARGIN", new_y="NEXT")
    for s in doc["sections"]:
        p.ln(3)
        p.set_font("Report", "B", 11)
        p.multi_cell(0, 6, s["heading"], align="L", new_x="LMARGIN", new_y="NEXT")
        p.set_font("Report", "", 9)
        for paragraph in s["paragraphs"]:
            p.multi_cell(0, 4.6, paragraph, align="L", new_x="LMARGIN", new_y="NEXT")
            p.ln(0.8)
        for t in s["tables"]:
            _pdf_table(p, t)
    return bytes(p.output())


LINE = 3.6  # mm per line of table text at 7.5 pt
PAD = 0.8
HEAD_FILL = (221, 228, 238)


def _pdf_table(p: FPDF, t: dict[str, Any]) -> None:
    """A table drawn cell by cell. fpdf2's own `table()` lays every cell out twice through its
    full line breaker (~10 ms a row): a week of a large district's messages took minutes."""
    columns = t["columns"]
    if t.get("title"):
        p.ln(1)
        p.set_font("Report", "B", 9)
        p.multi_cell(0, 5, t["title"], align="L", new_x="LMARGIN", new_y="NEXT")
    if not t["rows"]:
        p.set_font("Report", "", 8)
        p.multi_cell(0, 4.5, "нет данных", align="L", new_x="LMARGIN", new_y="NEXT")
        return
    cells = [[text(v, c["type"], empty="—") for c, v in zip(columns, row, strict=False)] for row in t["rows"]]
    p.set_font("Report", "", 7.5)
    widths = _column_widths(p, columns, cells)
    aligns = ["R" if c["type"] in NUMERIC else "L" for c in columns]
    p.ln(1)

    def header() -> None:
        p.set_font("Report", "B", 7.5)
        wrapped, height = _layout(p, [c["title"] for c in columns], widths)
        _pdf_row(p, wrapped, height, widths, ["L"] * len(columns), fill=True)
        p.set_font("Report", "", 7.5)

    header()
    for r in cells:
        wrapped, height = _layout(p, r, widths)
        if p.get_y() + height > p.page_break_trigger:
            p.add_page()
            header()
        _pdf_row(p, wrapped, height, widths, aligns)
    p.ln(1)


def _column_widths(p: FPDF, columns: list[dict[str, Any]], cells: list[list[str]]) -> list[float]:
    """Every column at least as wide as its longest word (a number or a date must not break),
    the rest of the line shared by how much more each column's longest value wants."""
    p.set_font("Report", "B", 7.5)
    heads = [max((_width(p, w) for w in c["title"].split()), default=4.0) for c in columns]
    p.set_font("Report", "", 7.5)
    least, want = [], []
    for i, head in enumerate(heads):
        values = [r[i] for r in cells if i < len(r)]
        word = max((_width(p, w) for v in values for w in v.split()), default=4.0)
        least.append(max(word, head) + 2 * PAD + 0.5)
        want.append(min(max((_width(p, v) for v in values), default=4.0), 90.0) + 2 * PAD)
    spare = p.epw - sum(least)
    if spare <= 0:
        return [w * p.epw / sum(least) for w in least]
    extra = [max(w - m, 0.0) for w, m in zip(want, least, strict=True)]
    if not sum(extra):
        return [m + spare / len(least) for m in least]
    return [m + spare * e / sum(extra) for m, e in zip(least, extra, strict=True)]


def _width(p: FPDF, value: str) -> float:
    # The font's own advance widths: fpdf2's get_string_width runs its text shaping on every
    # call, and a big table asks tens of thousands of times.
    cw = p.current_font.cw
    return sum(cw[ord(ch)] for ch in value) * p.font_size_pt / 1000 / p.k


def _wrap(p: FPDF, value: str, width: float) -> list[str]:
    """Greedy word wrap to `width` mm in the current font; a word longer than the line is cut."""
    if _width(p, value) <= width and "\n" not in value:
        return [value]
    lines: list[str] = []
    space = _width(p, " ")
    for paragraph in value.split("\n"):
        line, used = "", 0.0
        for word in paragraph.split(" "):
            w = _width(p, word)
            if line and used + space + w <= width:
                line, used = f"{line} {word}", used + space + w
                continue
            if line:
                lines.append(line)
            while w > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and _width(p, word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
                w = _width(p, word)
            line, used = word, w
        lines.append(line)
    return lines


def _layout(p: FPDF, values: list[str], widths: list[float]) -> tuple[list[list[str]], float]:
    wrapped = [_wrap(p, v, w - 2 * PAD) for v, w in zip(values, widths, strict=False)]
    return wrapped, max(len(lines) for lines in wrapped) * LINE + 2 * PAD


def _pdf_row(
    p: FPDF,
    wrapped: list[list[str]],
    height: float,
    widths: list[float],
    aligns: list[str],
    *,
    fill: bool = False,
) -> None:
    """Draw one laid-out row at the current position and move below it."""
    x, y = p.l_margin, p.get_y()
    if fill:
        p.set_fill_color(*HEAD_FILL)
    p.set_draw_color(153, 153, 153)
    baseline = LINE * 0.75
    for lines, w, align in zip(wrapped, widths, aligns, strict=False):
        p.rect(x, y, w, height, style="DF" if fill else "D")
        for i, line in enumerate(lines):
            if not line:
                continue
            left = x + PAD if align == "L" else x + w - PAD - _width(p, line)
            p.text(left, y + PAD + i * LINE + baseline, line)
        x += w
    p.set_xy(p.l_margin, y + height)


# ---------------------------------------------------------------- JSON and files
def json_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def render(doc: dict[str, Any], fmt: str, *, font: str) -> bytes:
    if fmt == "xlsx":
        return xlsx(doc)
    if fmt == "csv":
        return csv_bytes(doc)
    if fmt == "pdf":
        return pdf(doc, font=font)
    if fmt == "json":
        return json_bytes(doc)
    raise ValueError(f"unknown format {fmt}")


def filename(doc: dict[str, Any], fmt: str) -> str:
    """«<report name, shortened> — <district> — <period>.<fmt>», safe on every file system."""
    name = re.sub(r"[\\/:*?\"<>|]+", "-", doc["title"])
    name = " ".join(name.split())
    if len(name) > 80:
        name = name[:80].rsplit(" ", 1)[0].rstrip(",;—- ") + "…"
    return f"{name} — {doc['district']['name']} — {doc['period']['key']}.{fmt}"


def content_disposition(doc: dict[str, Any], fmt: str) -> str:
    """An attachment with the Russian name (RFC 5987 `filename*`) and an ASCII fallback."""
    fallback = re.sub(
        r"[^A-Za-z0-9._-]+", "_", f"{doc['district']['slug']}-{doc['report']['id']}-{doc['period']['key']}"
    )
    return f"attachment; filename=\"{fallback}.{fmt}\"; filename*=UTF-8''{quote(filename(doc, fmt), safe='')}"
