"""Blank survey forms (csat survey): one xlsx per customer, in the customer's language.

The layout is the procedure's own form, which csat reads back without doubt: labelled cells
(客户名称：…), the items in rows and one tick column per level (非常满意 … 非常不满意), so a
form printed, ticked by hand and scanned works as well as one filled in Excel. Only the cells the
customer fills are unlocked. Custom document properties carry the customer code, period, form
revision and rules hash, so the importer recognises its own forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from csat.config import Rules
from csat.customers import Customer
from csat.periods import Period, parse_period
from csat.render.atomic import write_atomically

TEXT = {
    "title": {"zh": "顾客满意度调查表", "en": "Customer Satisfaction Survey"},
    "form": {
        "zh": "表单编号：{number}　版本：{revision}",
        "en": "Form No.: {number}  Rev. {revision}",
    },
    "intro": {
        "zh": "尊敬的客户：为了不断改进我们的产品和服务，请您评价我们{period}的工作，"
        "在每个项目相应的栏内打“✓”（每项只选一栏），并于{reply_by}前回复。",
        "en": "Dear customer, please rate our work in {period}: tick (✓ or X) one box per "
        "item, and return this form by {reply_by}.",
    },
    "customer": {"zh": "客户名称：", "en": "Customer:"},
    "code": {"zh": "客户编号：", "en": "Customer code:"},
    "contact": {"zh": "联系人：", "en": "Contact:"},
    "date": {"zh": "填表日期：", "en": "Date:"},
    "no": {"zh": "序号", "en": "No."},
    "item": {"zh": "调查项目", "en": "Item"},
    "weight": {"zh": "评分比例", "en": "Weight"},
    "comments": {"zh": "其它评价：", "en": "Comments:"},
    "sign": {"zh": "客户签名/盖章：", "en": "Signature / stamp:"},
    "from": {"zh": "发出单位：", "en": "From:"},
}
# Fonts named on every cell: a bold cell without a font falls back to a serif in LibreOffice
FONT = {"zh": "Microsoft YaHei", "en": "Calibri"}
PLACEHOLDER_COMPANY = {"zh": "本公司", "en": "Our company"}
FIRST_ITEM_ROW = 9
FIRST_LEVEL_COL = 4  # D: one tick column per level, as on the procedure's own form
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_OPEN = Protection(locked=False)
_FILL = PatternFill("solid", fgColor="FFF2CC")  # where the customer writes
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_ORDINAL_ZH = "一二三四"
_ORDINAL_EN = ["first", "second", "third", "fourth"]


def period_words(period: Period, lang: str) -> str:
    """The period as a customer reads it: 2024年上半年 / the first half of 2024."""
    y = period.year
    if period.months == 6:
        half = (period.start - 1) // 6
        return (
            f"{y}年{'上下'[half]}半年" if lang == "zh" else f"the {_ORDINAL_EN[half]} half of {y}"
        )
    if period.months == 3:
        q = (period.start - 1) // 3
        return (
            f"{y}年第{_ORDINAL_ZH[q]}季度"
            if lang == "zh"
            else f"the {_ORDINAL_EN[q]} quarter of {y}"
        )
    if period.months == 1:
        return f"{y}年{period.start}月" if lang == "zh" else f"{_MONTHS_EN[period.start - 1]} {y}"
    return f"{y}年度" if lang == "zh" else f"{y}"


def date_words(day: date, lang: str) -> str:
    """A date as a customer reads it: 2024年7月4日 / 4 July 2024."""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class FormMeta:
    code: str
    customer: str
    period: str
    revision: str
    rules_sha256: str


def safe_file_name(period: str, code: str, taken: set[str]) -> str:
    """A file name safe on every OS, from the period and the customer code only."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", code).strip("_")[:60] or "customer"
    name, n = f"{period}-{stem}.xlsx", 1
    while name.casefold() in taken:
        n += 1
        name = f"{period}-{stem}-{n}.xlsx"
    taken.add(name.casefold())
    return name


def write_form(
    path: Path,
    customer: Customer,
    lang: str,
    period: str,
    reply_by: date,
    rules: Rules,
    rules_sha256: str,
) -> None:
    """Write one customer's blank form to `path` (atomically). It works on paper as in Excel:
    the five levels are tick columns under their names."""
    T = {k: v[lang] for k, v in TEXT.items()}
    font = FONT["zh" if lang == "zh" else "en"]
    plain, bold = Font(name=font, size=11), Font(name=font, size=11, bold=True)
    levels = [(lv.labels.zh if lang == "zh" else lv.labels.en) for lv in rules.levels.values()]
    last_col = get_column_letter(FIRST_LEVEL_COL + len(levels) - 1)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "调查表" if lang == "zh" else "Survey"
    widths = {"A": 19, "B": 26, "C": 9}
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    for i in range(len(levels)):
        ws.column_dimensions[get_column_letter(FIRST_LEVEL_COL + i)].width = 11
    ws["A1"] = T["title"]
    ws.merge_cells(f"A1:{last_col}1")
    ws["A2"] = T["form"].format(number=rules.survey.form_number, revision=rules.survey.revision)
    ws["A3"] = T["intro"].format(
        period=period_words(parse_period(period), lang), reply_by=date_words(reply_by, lang)
    )
    ws.merge_cells(f"A3:{last_col}3")
    ws.row_dimensions[3].height = 48
    company = rules.survey.company.zh if lang == "zh" else rules.survey.company.en
    _text(ws, "A4", T["from"])
    _text(ws, "B4", company)
    ws.merge_cells(f"B4:{last_col}4")
    _text(ws, "A5", T["customer"])
    _text(ws, "B5", customer.name)
    ws.merge_cells("B5:C5")
    _text(ws, "D5", T["code"])
    ws.merge_cells("D5:E5")
    _text(ws, "F5", customer.code)
    _text(ws, "A6", T["contact"])
    _text(ws, "B6", customer.contact or "", editable=True)
    ws.merge_cells("B6:C6")
    _text(ws, "D6", T["date"])
    ws.merge_cells("D6:E6")
    _editable(ws["F6"])
    ws["F6"].number_format = "yyyy-mm-dd"
    ws.merge_cells(f"F6:{last_col}6")
    header = FIRST_ITEM_ROW - 1
    heads = [T["no"], T["item"], T["weight"], *levels]
    for c, text in enumerate(heads, 1):
        cell = ws.cell(header, c, text)
        cell.border, cell.alignment = _BOX, _CENTRE
    ws.row_dimensions[header].height = 32
    last = header
    for i, item in enumerate(rules.items.values()):
        row = FIRST_ITEM_ROW + i
        ws.cell(row, 1, i + 1).alignment = _CENTRE
        _text(ws, f"B{row}", item.labels.zh if lang == "zh" else item.labels.en)
        _text(ws, f"C{row}", f"{item.weight:g}%")
        ws[f"C{row}"].alignment = _CENTRE
        for c in range(FIRST_LEVEL_COL, FIRST_LEVEL_COL + len(levels)):
            _editable(ws.cell(row, c))
            ws.cell(row, c).alignment = _CENTRE
        for c in range(1, FIRST_LEVEL_COL + len(levels)):
            ws.cell(row, c).border = _BOX
        ws.row_dimensions[row].height = 22
        last = row
    # A dropdown offering the tick, for those who fill it in Excel; any mark csat knows is fine
    tick = DataValidation(type="list", formula1='"✓"', allow_blank=True, showErrorMessage=False)
    ws.add_data_validation(tick)
    tick.add(f"{get_column_letter(FIRST_LEVEL_COL)}{FIRST_ITEM_ROW}:{last_col}{last}")
    comments = last + 2
    _text(ws, f"A{comments}", T["comments"])
    _editable(ws[f"B{comments}"])
    ws.merge_cells(f"B{comments}:{last_col}{comments}")
    ws.row_dimensions[comments].height = 80
    _text(ws, f"A{comments + 2}", T["sign"])
    _editable(ws[f"B{comments + 2}"])
    ws.merge_cells(f"B{comments + 2}:{last_col}{comments + 2}")
    ws.row_dimensions[comments + 2].height = 40
    for row in ws.iter_rows(min_row=1, max_row=comments + 2):
        for cell in row:
            is_head = cell.row == header or (cell.column == 1 and cell.row > 3)
            cell.font = bold if is_head else plain
            if cell.alignment.horizontal is None:
                cell.alignment = Alignment(vertical="top", wrap_text=cell.row in (3, comments))
    ws["A1"].font = Font(name=font, size=15, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.protection.sheet = True
    ws.page_setup.paperSize = 9
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    meta = FormMeta(customer.code, customer.name, period, rules.survey.revision, rules_sha256)
    for name, value in [
        ("csat-form-code", meta.code),
        ("csat-form-customer", meta.customer),
        ("csat-form-period", meta.period),
        ("csat-form-revision", meta.revision),
        ("csat-form-rules", meta.rules_sha256),
    ]:
        wb.custom_doc_props.append(StringProperty(name=name, value=value))
    write_atomically(path, lambda temp: wb.save(temp))


def _text(ws: object, ref: str, value: str, editable: bool = False) -> None:
    """Customer text is written as a string cell, never as a formula."""
    cell = ws[ref]  # type: ignore[index]
    cell.value = value
    cell.data_type = "s"
    if editable:
        _editable(cell)


def _editable(cell: object) -> None:
    cell.protection = _OPEN  # type: ignore[attr-defined]
    cell.fill = _FILL  # type: ignore[attr-defined]
