"""Blank survey forms (csat survey): one xlsx per customer, in the customer's language.

The layout is one csat reads back without doubt: labelled cells (客户名称: …), the items in rows
and a rating column whose cells offer the level labels as a dropdown. Only the cells the
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
from openpyxl.worksheet.datavalidation import DataValidation

from csat.config import Rules
from csat.customers import Customer
from csat.render.atomic import write_atomically

TEXT = {
    "title": {"zh": "顾客满意度调查表", "en": "Customer Satisfaction Survey"},
    "form": {
        "zh": "表单编号: {number}  版本: {revision}",
        "en": "Form No.: {number}  Rev. {revision}",
    },
    "intro": {
        "zh": "尊敬的客户: 为了不断改进我们的产品和服务, 请您评价{period}期间的合作, "
        "并于{reply_by}前回复。",
        "en": "Dear customer, please rate our work in {period} and return this form by {reply_by}.",
    },
    "customer": {"zh": "客户名称:", "en": "Customer:"},
    "code": {"zh": "客户编号:", "en": "Customer code:"},
    "contact": {"zh": "联系人:", "en": "Contact:"},
    "date": {"zh": "填表日期:", "en": "Date:"},
    "no": {"zh": "序号", "en": "No."},
    "item": {"zh": "调查项目", "en": "Item"},
    "weight": {"zh": "评分比例", "en": "Weight"},
    "rating": {"zh": "评价", "en": "Rating"},
    "comments": {"zh": "其它评价:", "en": "Comments:"},
    "sign": {"zh": "客户签名/盖章:", "en": "Signature / stamp:"},
    "from": {"zh": "发出单位:", "en": "From:"},
}
FIRST_ITEM_ROW = 9
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_OPEN = Protection(locked=False)
_FILL = PatternFill("solid", fgColor="FFF2CC")  # where the customer writes


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
    """Write one customer's blank form to `path` (atomically)."""
    T = {k: v[lang] for k, v in TEXT.items()}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "调查表" if lang == "zh" else "Survey"
    for col, width in zip("ABCDE", [14, 30, 12, 18, 22], strict=True):
        ws.column_dimensions[col].width = width
    ws["A1"] = T["title"]
    ws["A1"].font = Font(bold=True, size=15)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:E1")
    ws["A2"] = T["form"].format(number=rules.survey.form_number, revision=rules.survey.revision)
    ws["A3"] = T["intro"].format(period=period, reply_by=reply_by.isoformat())
    ws["A3"].alignment = Alignment(wrap_text=True)
    ws.merge_cells("A3:E3")
    ws.row_dimensions[3].height = 32
    company = rules.survey.company.zh if lang == "zh" else rules.survey.company.en
    _text(ws, "A4", T["from"])
    _text(ws, "B4", company)
    _text(ws, "A5", T["customer"])
    _text(ws, "B5", customer.name)
    ws.merge_cells("B5:C5")
    _text(ws, "D5", T["code"])
    _text(ws, "E5", customer.code)
    _text(ws, "A6", T["contact"])
    _text(ws, "B6", customer.contact or "", editable=True)
    _text(ws, "D6", T["date"])
    _editable(ws["E6"])
    ws["E6"].number_format = "yyyy-mm-dd"
    header = FIRST_ITEM_ROW - 1
    for col, key in zip("ABCD", ["no", "item", "weight", "rating"], strict=True):
        c = ws[f"{col}{header}"]
        c.value, c.font, c.border = T[key], Font(bold=True), _BOX
    last = FIRST_ITEM_ROW - 1
    for i, item in enumerate(rules.items.values()):
        row = FIRST_ITEM_ROW + i
        ws[f"A{row}"] = i + 1
        _text(ws, f"B{row}", item.labels.zh if lang == "zh" else item.labels.en)
        _text(ws, f"C{row}", f"{item.weight:g}%")
        _editable(ws[f"D{row}"])
        for col in "ABCD":
            ws[f"{col}{row}"].border = _BOX
        last = row
    labels = [(lv.labels.zh if lang == "zh" else lv.labels.en) for lv in rules.levels.values()]
    choice = DataValidation(
        type="list",
        formula1='"' + ",".join(labels) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=T["rating"],
        error=" / ".join(labels),
    )
    ws.add_data_validation(choice)
    choice.add(f"D{FIRST_ITEM_ROW}:D{last}")
    comments = last + 2
    _text(ws, f"A{comments}", T["comments"])
    _editable(ws[f"B{comments}"])
    ws[f"B{comments}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(f"B{comments}:E{comments}")
    ws.row_dimensions[comments].height = 60
    _text(ws, f"A{comments + 2}", T["sign"])
    _editable(ws[f"B{comments + 2}"])
    ws.protection.sheet = True
    ws.page_setup.paperSize = 9
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
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
