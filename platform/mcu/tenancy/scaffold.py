"""`mcu tenants new`: a commented starting file a regional admin fills in from the decree."""

from __future__ import annotations

SCAFFOLD = """\
# Район «{slug}» ({region}). Заполните по постановлению о МЦУ района.
# Формат: tenants/README.md; схема: platform/mcu/schemas/tenant.schema.json.
# Разделы, которых нет в этом файле, берутся из значений региона (tenants/{region}/_region.yaml);
# раздел-список, указанный здесь, заменяет региональный целиком.
# Проверка: mcu tenants validate {path}    Загрузка: mcu tenants load {path}
schema_version: 1
slug: {slug}
region: {region}
name:
  full: "{full_name}"
  short: "{short_name}"
# timezone: Europe/Moscow          # по умолчанию — часовой пояс региона
# population: {{value: 20000, year: 2025, note: "оценка Росстата"}}

acts:
  # Постановление о МЦУ района. Пока номер и дата неизвестны — null и status: draft.
  - id: {slug}-mcu
    kind: постановление
    issuer: "Администрация района"
    number: null
    date: null
    title: "О муниципальном центре управления"
    status: draft

# settlements:                     # городские и сельские поселения
#   - {{id: center, name: "Городское поселение ...", kind: urban, aliases: ["пгт ..."]}}

# roles:                           # роли из постановления; kind — из словаря в tenants/README.md
#   - id: head
#     kind: mcu_head
#     name: "Руководитель МЦУ"
#     duties:
#       - {{text: "обеспечивает текущую деятельность МЦУ", source: {{act: {slug}-mcu, clause: "Положение п.4.3"}}}}

# roster:                          # состав МЦУ: должности → роли и блоки
#   - {{id: pos-head, position: "Начальник управления ...", roles: [head]}}

# blocks:                          # отраслевые блоки; topic — из rules/topics.yaml
#   - {{id: zhkh, name: "Жилищно-коммунальное хозяйство", topic: housing_utilities, head: pos-zhkh}}

# channels:                        # каналы; deadline_profile — из rules/deadlines/
#   - {{id: pos, kind: pos, name: "Платформа обратной связи", regime: message, deadline_profile: pos}}

# escalation:
#   rule_sets:                     # наборы правил из rules/escalation/
#     - use: emergency
#       params:
#         report_every_hours: {{value: 2, source: {{act: {slug}-mcu, clause: "Регламент п.5.5"}}}}

# kpi:
#   indicators:                    # id — из rules/kpi/indicators.yaml; цели по годам
#     - {{id: fast_track_share, name: "...", unit: "%", targets: {{"2025": 90, "2026": 90}}}}

notes:
  - id: scaffold
    kind: gap
    text: "Файл создан командой mcu tenants new; разделы ещё не заполнены по постановлению района."
"""


def render(*, slug: str, region: str, full_name: str, short_name: str, path: str) -> str:
    return SCAFFOLD.format(slug=slug, region=region, full_name=full_name, short_name=short_name, path=path)
