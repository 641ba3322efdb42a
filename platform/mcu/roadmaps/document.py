"""The roadmap as a document in the layout of the decree's appendix: Конд Регламент Прил. 1
(plan) and Прил. 2 (operational), ХМ Регламент Прил. 1–2 — the approval blocks on top
(«СОГЛАСОВАНО» on the left where the district has that step, «УТВЕРЖДАЮ» on the right), the title,
«Основные сведения» (problem, growth, three people with name, position, phone, e-mail) and «План
мероприятий» (№, measure, result, indicator, executor, start/end), measures grouped under their
root cause as in ХМ Прил. 1 табл. 2.

`form()` gathers the content once; `docx()` (python-docx) and `pdf()` (fpdf2 with a Cyrillic TTF,
the reports' mechanism) lay it out.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from mcu.reports.render import RenderError
from mcu.roadmaps import people
from mcu.roadmaps.models import Roadmap
from mcu.roadmaps.operations import approval_config, growth_text, measures_of
from mcu.roadmaps.queries import effect_of
from mcu.tenancy.config import TenantConfig

MONTHS_GEN = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
TITLES = {
    "plan": (
        "План мероприятий («дорожная карта») по снижению количества сообщений по категориям "
        "с наибольшим приростом за отчетный период"
    ),
    "operational": "Оперативная «дорожная карта» по ликвидации ситуации, угрожающей жизни и здоровью граждан",
}
COLUMNS = (
    "№",
    "Мероприятие",
    "Результат выполнения",
    "Показатель выполнения",
    "Ответственный исполнитель",
    "Дата начала работ/завершения",
)
WIDTHS_MM = (12, 70, 50, 45, 45, 38)


def _signed_date(at: datetime | None, config: TenantConfig) -> str:
    if at is None:
        return "«_____» ___________________ 20____ года"
    d = at.astimezone(config.tz).date()
    return f"«{d.day:02d}» {MONTHS_GEN[d.month - 1]} {d.year} года"


def _day(d: date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else "—"


def _stamp(config: TenantConfig, roadmap: Roadmap, step: str, roles: list[str]) -> dict[str, Any]:
    """One approval block: the position that signs (as signed, or as the roster names it)."""
    position = getattr(roadmap, f"{step}_position")
    role = getattr(roadmap, f"{step}_role")
    name = getattr(roadmap, f"{step}_by")
    if position is None:
        found = next(
            (p for r in roles if (p := people.position_for(config, {r}, roadmap.block_id)) is not None), None
        )
        role = next((r for r in roles if found and r in found.get("roles", [])), roles[0] if roles else None)
        position = found.get("position") if found else ""
        name = found.get("person") if found else None
    role_name = config.roles.get(role or "", {}).get("name")
    return {
        "heading": "СОГЛАСОВАНО:" if step == "agreed" else "УТВЕРЖДАЮ:",
        "position": position or "",
        "role": f"({role_name.lower()})" if role_name else "",
        "signature": f"_______________/{name or '___________________'}",
        "date": _signed_date(getattr(roadmap, f"{step}_at"), config),
    }


def form(session: Session, config: TenantConfig, roadmap: Roadmap, *, today: date) -> dict[str, Any]:
    """Everything the document shows, in order."""
    rules = approval_config(config)
    stamps = []
    if rules["agree"] is not None:
        stamps.append(_stamp(config, roadmap, "agreed", [rules["agree"]]))
    stamps.append(_stamp(config, roadmap, "approved", rules["approve"]))
    block = config.blocks.get(roadmap.block_id or "", {}).get("name")
    subtitle = [f"по проблеме «{roadmap.problem}»" + (f". Блок «{block}»" if block else ""), config.name]
    basics = [("Наименование проблемы", roadmap.problem),
              ("Прирост количества сообщений по категориям", growth_text(config, roadmap))]  # fmt: skip
    for slot, (title, _kinds) in people.SLOTS.items():
        p = roadmap.responsible.get(slot) or {}
        basics.append(
            (
                title,
                "\n".join(
                    (
                        f"Ф.И.О.: {p.get('name') or ''}",
                        f"Должность: {p.get('position') or ''}",
                        f"Сотовый телефон: {p.get('phone') or ''}",
                        f"email: {p.get('email') or ''}",
                    )
                ),
            )
        )
    if roadmap.root_causes:
        basics.append(("Первопричины", roadmap.root_causes))
    rows: list[tuple[str, ...] | str] = []
    causes: dict[str, int] = {}
    measures = measures_of(session, roadmap)
    grouped = any(m.root_cause for m in measures)
    counters: dict[str, int] = {}
    for m in measures:
        if grouped:
            cause = m.root_cause or "не указана"
            if cause not in causes:
                causes[cause] = len(causes) + 1
                rows.append(f"{causes[cause]}. Описание первопричины: {cause}")
            counters[cause] = counters.get(cause, 0) + 1
            number = f"{causes[cause]}.{counters[cause]}."
        else:
            number = f"{m.position}."
        done = (
            f"\nВыполнено {_day(m.completed_at.date() if m.completed_at else None)}: {m.evidence}"
            if m.status == "done"
            else ""
        )
        rows.append(
            (
                number,
                m.title + done,
                m.expected_result or "",
                m.indicator or "",
                m.executor or "",
                f"{_day(m.start_date)} / {_day(m.end_date)}",
            )
        )
    notes = []
    if roadmap.version > 1:
        notes.append(f"Редакция {roadmap.version} (изменяет предыдущую редакцию дорожной карты).")
    if roadmap.status in ("approved", "done"):
        done = sum(m.status == "done" for m in measures)
        notes.append(f"Выполнено мероприятий: {done} из {len(measures)}.")
        notes.append("Результат: " + effect_of(session, config, roadmap, today=today).text)
    return {
        "stamps": stamps,
        "title": TITLES.get(roadmap.kind, TITLES["plan"]),
        "subtitle": subtitle,
        "basics": basics,
        "rows": rows,
        "notes": notes,
        "file": f"Дорожная карта — {block or roadmap.problem[:60]} — ред. {roadmap.version}",
        "ascii": f"{config.slug}-roadmap-{roadmap.id}",
    }


def content_disposition(doc: dict[str, Any], fmt: str) -> str:
    name = re.sub(r'[\\/:*?"<>|]+', " ", doc["file"]).strip()
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", doc["ascii"])
    return f"attachment; filename=\"{fallback}.{fmt}\"; filename*=UTF-8''{quote(f'{name}.{fmt}', safe='')}"


MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def render(doc: dict[str, Any], fmt: str, *, font: str) -> tuple[bytes, str, str]:
    """The document in `fmt` (docx or pdf): its bytes, MIME type and Content-Disposition — one
    place for the API and the staff pages. Raises RenderError when the PDF font is missing."""
    data = docx(doc) if fmt == "docx" else pdf(doc, font=font)
    return data, MIMETYPES[fmt], content_disposition(doc, fmt)


# ---------------------------------------------------------------- DOCX
def docx(doc: dict[str, Any]) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    d = Document()
    section = d.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    style = d.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(12)

    stamps = d.add_table(rows=1, cols=2)
    cells = stamps.rows[0].cells
    placed = doc["stamps"] if len(doc["stamps"]) == 2 else [None, doc["stamps"][0]]
    for cell, stamp in zip(cells, placed, strict=True):
        if stamp is None:
            continue
        cell.paragraphs[0].add_run(stamp["heading"]).bold = True
        for line in (stamp["position"], stamp["role"], stamp["signature"], stamp["date"]):
            if line:
                cell.add_paragraph(line)
    d.add_paragraph()
    title = d.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(doc["title"])
    run.bold, run.font.size = True, Pt(14)
    for line in doc["subtitle"]:
        p = d.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    d.add_heading("Основные сведения", level=2)
    basics = d.add_table(rows=0, cols=2)
    basics.style = "Table Grid"
    for label, value in doc["basics"]:
        row = basics.add_row().cells
        row[0].text, row[1].text = label, value
        row[0].width, row[1].width = Mm(100), Mm(165)

    d.add_heading("План мероприятий", level=2)
    table = d.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(heading).bold = True
    for row in doc["rows"]:
        cells = table.add_row().cells
        if isinstance(row, str):
            merged = cells[0].merge(cells[-1])
            merged.text = ""
            merged.paragraphs[0].add_run(row).italic = True
            continue
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    for row in table.rows:
        for cell, width in zip(row.cells, WIDTHS_MM, strict=False):
            cell.width = Mm(width)
    for note in doc["notes"]:
        d.add_paragraph(note)
    out = io.BytesIO()
    d.core_properties.title = doc["title"][:200]
    d.core_properties.author = "Платформа МЦУ"
    d.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- PDF
def pdf(doc: dict[str, Any], *, font: str) -> bytes:
    from fpdf import FPDF

    regular = Path(font)
    if not regular.is_file():
        raise RenderError(
            f"Шрифт для PDF не найден: {regular}. Установите пакет fonts-dejavu-core или укажите путь к "
            "TTF-шрифту с кириллицей в настройке REPORT_FONT (переменная окружения MCU_REPORT_FONT)."
        )
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    p = FPDF(orientation="L", unit="mm", format="A4")
    p.set_margins(12, 12, 12)
    p.set_auto_page_break(True, margin=12)
    p.add_font("F", "", str(regular))
    p.add_font("F", "B", str(bold if bold.is_file() else regular))
    p.set_title(doc["title"][:200])
    p.set_creator("Платформа МЦУ")
    p.add_page()
    half = (p.w - 24) / 2
    top = p.get_y()
    placed = doc["stamps"] if len(doc["stamps"]) == 2 else [None, doc["stamps"][0]]
    bottom = top
    for i, stamp in enumerate(placed):
        if stamp is None:
            continue
        p.set_xy(12 + i * half, top)
        p.set_font("F", "B", 10)
        p.multi_cell(half - 4, 5, stamp["heading"], new_x="LEFT", new_y="NEXT")
        p.set_font("F", "", 10)
        for line in (stamp["position"], stamp["role"], stamp["signature"], stamp["date"]):
            if line:
                p.multi_cell(half - 4, 5, line, new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, p.get_y())
    p.set_xy(12, bottom + 6)
    p.set_font("F", "B", 12)
    p.multi_cell(0, 6, doc["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    p.set_font("F", "", 10)
    for line in doc["subtitle"]:
        p.multi_cell(0, 5, line, align="C", new_x="LMARGIN", new_y="NEXT")
    p.ln(3)
    p.set_font("F", "B", 11)
    p.cell(0, 6, "Основные сведения", new_x="LMARGIN", new_y="NEXT")
    p.set_font("F", "", 9)
    with p.table(col_widths=(100, 173), text_align="LEFT", first_row_as_headings=False) as t:
        for label, value in doc["basics"]:
            row = t.row()
            row.cell(label)
            row.cell(value)
    p.ln(3)
    p.set_font("F", "B", 11)
    p.cell(0, 6, "План мероприятий", new_x="LMARGIN", new_y="NEXT")
    p.set_font("F", "", 8)
    with p.table(col_widths=WIDTHS_MM, text_align="LEFT") as t:
        head = t.row()
        for heading in COLUMNS:
            head.cell(heading)
        for values in doc["rows"]:
            row = t.row()
            if isinstance(values, str):
                row.cell(values, colspan=len(COLUMNS))
                continue
            for value in values:
                row.cell(value)
    p.ln(2)
    p.set_font("F", "", 9)
    for note in doc["notes"]:
        p.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    return bytes(p.output())
