"""CAPA forms (纠正与预防措施报告): one printable A4 HTML page per CAPA plus an index, rendered from
Jinja templates. Autoescaping is on and undefined names are errors: customer text is data.
File names come from CAPA numbers, never from customer text."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import cast, overload

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from csat.capa import evidence_text
from csat.config import Rules, packaged_data_dir
from csat.errors import CsatError
from csat.render.labels import Lang, t
from csat.store import CapaRecord

FORM_LABELS = [
    "form_title",
    "index_title",
    "number",
    "period",
    "customer",
    "code",
    "department",
    "status",
    "issue_date",
    "due_date",
    "trigger",
    "repeat",
    "repeat_of",
    "comment",
    "finding",
    "root_cause",
    "corrective",
    "preventive",
    "verification",
    "signature_owner",
    "signature_qa",
    "made_on",
    "verdict",
    "evidence",
    "action",
    "closed_on",
    "verified_on",
    "history",
    "date",
    "step",
    "by",
    "details",
]


@dataclass(frozen=True)
class Finding:
    what: str
    rating: str


@dataclass(frozen=True)
class Step:
    on: str
    step: str
    by: str
    text: str


@dataclass(frozen=True)
class CapaView:
    """One CAPA with every label chosen: the template only places text."""

    number: str
    file: str
    period: str
    customer: str
    code: str
    department: str
    status: str
    issue_date: str
    due_date: str
    overdue: bool
    trigger: str
    findings: list[Finding]
    comment: str
    repeat_of: str | None
    verdict: str | None  # the label, when a later reply judged it
    ineffective: bool
    evidence: str
    action: str  # the recorded action of the close that holds now
    closed: str  # "2024-07-20 · 王工"
    verification: str  # the note of the verification that holds now
    verified: str
    history: list[Step]  # every step after the issue; the form prints it as the record


# The fields a template may read straight off the views this module makes (see _Sandbox.getattr).
_VIEW_FIELDS: dict[type, frozenset[str]] = {
    kind: frozenset(f.name for f in fields(kind)) for kind in (CapaView, Finding, Step)
}
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox with a short way to plain data. Why a sandbox at all: templates in the
    user's ./templates folder (`csat init` copies them there to edit) override the packaged ones
    by name, base.html.j2 included, so any template may be user code; the sandbox keeps it from
    Python internals (`''.__class__.__mro__`) and unsafe calls.

    Its price is in `getattr`: every `{{ capa.number }}` or `{{ L.number }}` costs an attribute
    try, a string-format check and an internal-attribute check (~60 a form, 68,000 forms in a
    100k report). Two kinds of object need none of that, and take this fast path, which must
    stay equal to the general one: a field of CapaView, Finding or Step (frozen dataclasses of
    str, bool, None and lists of the other two; the general path returns the same value, as the
    names are public and no value is a method), and a key of a plain dict that is not a dict
    attribute (the general path tries the attribute, fails, and returns `obj[key]`). Everything
    else (other objects, underscores, methods, missing keys) goes the sandbox's way."""

    def getattr(self, obj: object, attribute: str) -> object:
        kind = type(obj)
        if kind is dict:
            keys = cast("dict[str, object]", obj)
            if attribute in keys and attribute not in _DICT_ATTRIBUTES:
                return keys[attribute]
        elif attribute in _VIEW_FIELDS.get(kind, ()):
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


class TemplateProblem(CsatError):
    """A template cannot be used: it names the template file and line."""


def environment(user_templates: Path | None) -> Environment:
    """Templates in `user_templates` (./templates) override the packaged ones by name. The
    environment is sandboxed: a template (a user may edit them) cannot reach Python internals
    (`''.__class__.__mro__`) or call unsafe methods."""
    folders = [packaged_data_dir() / "templates"]
    if user_templates is not None and user_templates.is_dir():
        folders.insert(0, user_templates)
    return _Sandbox(
        loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
        # HTML is escaped; plain-text templates (reminder.*.txt.j2) are not HTML.
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _problem(name: str, exc: Exception) -> TemplateProblem:
    """Where a template failed: its file and line, from the error or from the traceback
    (Jinja maps rendering errors back to template lines)."""
    filename, line = name, None
    if isinstance(exc, TemplateSyntaxError):
        filename, line = exc.filename or exc.name or name, exc.lineno
    else:
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code.co_filename
            if code.endswith(".j2") or code.endswith(".html") or code.endswith(".txt"):
                filename, line = code, tb.tb_lineno
            tb = tb.tb_next
    where = f"{filename}, line {line}" if line else filename
    return TemplateProblem(
        f"template {where}: {exc}; fix the template (or delete it to use the packaged one). "
        "Nothing was written"
    )


def load_template(env: Environment, name: str) -> Template:
    """The template, or TemplateProblem naming it and the line of a syntax error."""
    try:
        return env.get_template(name)
    except TemplateError as exc:
        raise _problem(name, exc) from None


def render(template: Template, **context: object) -> str:
    """Render, turning any template error (undefined name, sandbox refusal) into
    TemplateProblem with the template's file and line."""
    try:
        return template.render(**context)
    except (TemplateError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        raise _problem(template.name or "template", exc) from None


def check_templates(user_templates: Path | None) -> None:
    """Load the CAPA templates before anything is written or issued."""
    env = environment(user_templates)
    for name in ("capa/form.html.j2", "capa/index.html.j2"):
        load_template(env, name)


def capa_view(capa: CapaRecord, rules: Rules, lang: Lang, today: date) -> CapaView:
    def label(labels: object) -> str:
        return str(getattr(labels, lang))

    findings = []
    for f in capa.flags:
        if f.type == "low_score":
            findings.append(
                Finding(
                    f"{t('low_score', lang)} {rules.flags.low_score_below:g}",
                    f"{t('total', lang)} {f.total:.1f}",
                )
            )
        else:
            assert f.item is not None and f.level is not None
            findings.append(
                Finding(label(rules.items[f.item].labels), label(rules.levels[f.level].labels))
            )

    def last(step: str) -> tuple[str, str]:
        for e in reversed(capa.history):
            if e.step == step:
                return (e.on.isoformat() if e.on else t("date_unknown", lang)), e.by
        return "", ""

    closed_on, closed_by = last("closed") if capa.action else ("", "")
    verified_on, verified_by = last("verified") if capa.note else ("", "")
    history = []
    for e in capa.history[1:]:
        if e.step == "judged":  # the evidence is printed once, in the verdict row above
            text = t(f"verdict_{e.verdict}", lang)
        else:
            text = e.text or ""
        history.append(
            Step(
                e.on.isoformat() if e.on else t("date_unknown", lang),
                t(f"step_{e.step}", lang),
                e.by,
                text,
            )
        )
    status = t("ready_to_verify" if capa.ready_to_verify else f"status_{capa.status}", lang)
    return CapaView(
        number=capa.number,
        file=f"{capa.number}.html",
        period=capa.period,
        customer=capa.customer,
        code=capa.customer_code or "",
        department=label(rules.departments[capa.department]),
        status=status,
        issue_date=capa.issue_date.isoformat(),
        due_date=capa.due_date.isoformat(),
        overdue=capa.overdue(today),
        trigger="; ".join(f"{x.what}: {x.rating}" for x in findings),
        findings=findings,
        comment=capa.comments or "",
        repeat_of=capa.repeat_of,
        verdict=t(f"verdict_{capa.effectiveness}", lang) if capa.effectiveness else None,
        ineffective=capa.effectiveness == "ineffective",
        evidence=evidence_text(capa.evidence, rules, lang) if capa.evidence else "",
        action=capa.action or "",
        closed=" · ".join(x for x in (closed_on, closed_by) if x),
        verification=capa.note or "",
        verified=" · ".join(x for x in (verified_on, verified_by) if x),
        history=history,
    )


class _Views(Sequence[CapaView]):
    """The CAPAs' views, made when asked for, so a report of 50,000 CAPAs does not hold 50,000
    views at once. The index iterates them; the first pass through each view also writes its
    form (`form(view)`), so each view is made once for both, and `finish()` writes the forms the
    index template did not reach (a template of your own may not list them all)."""

    def __init__(
        self,
        capas: Sequence[CapaRecord],
        rules: Rules,
        lang: Lang,
        today: date,
        form: Callable[[CapaView], None],
    ) -> None:
        self.capas, self.rules, self.lang, self.today = capas, rules, lang, today
        self.form, self.written = form, 0

    def __len__(self) -> int:
        return len(self.capas)

    def __getitem__(self, i: int) -> CapaView:  # type: ignore[override]
        return capa_view(self.capas[i], self.rules, self.lang, self.today)

    def __iter__(self) -> Iterator[CapaView]:
        for i, c in enumerate(self.capas):
            view = capa_view(c, self.rules, self.lang, self.today)
            if i == self.written:  # the forms are written once, in order, whoever iterates
                self.form(view)
                self.written += 1
            yield view

    def finish(self) -> None:
        for i in range(self.written, len(self.capas)):  # one at a time: they may be on disk
            self.form(capa_view(self.capas[i], self.rules, self.lang, self.today))
            self.written += 1


def _write_file(path: str, text: str) -> None:
    """`path.write_text(text, encoding="utf-8")` in three system calls (open, write, close):
    no buffer object, no fstat or seek, for each of tens of thousands of forms. Not synced, as
    before: the folder is swapped in whole, and a crash before the swap leaves the earlier set."""
    data = memoryview(text.encode("utf-8"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        while data:  # a write stops short only at a limit (ulimit -f); the next one says why
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _write_streamed(template: Template, path: Path, **context: object) -> None:
    """Render into the file piece by piece: the index of every CAPA is never one string."""
    try:
        with path.open("w", encoding="utf-8") as f:
            for chunk in template.generate(**context):
                f.write(chunk)
    except (TemplateError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        raise _problem(template.name or "template", exc) from None


class FormPaths(Sequence[Path]):
    """folder/CAPA-….html of each CAPA, then folder/index.html: the paths write_capa_forms
    wrote, made when asked for (a report writes tens of thousands, and its CAPAs are on
    disk). `in_folder` gives the same files' paths in another folder (after a swap)."""

    def __init__(self, folder: Path, capas: Sequence[CapaRecord]) -> None:
        self.folder, self.capas = folder, capas

    def __len__(self) -> int:
        return len(self.capas) + 1

    @overload
    def __getitem__(self, index: int) -> Path: ...
    @overload
    def __getitem__(self, index: slice) -> list[Path]: ...
    def __getitem__(self, index: int | slice) -> Path | list[Path]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if index == len(self.capas):
            return self.folder / "index.html"
        return self.folder / f"{self.capas[index].number}.html"

    def __iter__(self) -> Iterator[Path]:
        for c in self.capas:
            yield self.folder / f"{c.number}.html"
        yield self.folder / "index.html"

    def in_folder(self, folder: Path) -> FormPaths:
        return FormPaths(folder, self.capas)


def write_capa_forms(
    capas: Sequence[CapaRecord],
    rules: Rules,
    lang: Lang,
    folder: Path,
    period: str,
    today: date,
    user_templates: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> FormPaths:
    """Write folder/CAPA-….html for each CAPA and folder/index.html; return the paths.
    `progress(forms written)` is told every thousand forms and at the last.

    The forms are written while the index is (see _Views): each CAPA's view is made once.
    `folder` is new and private to this run (the report's temporary folder, swapped into place
    whole), so the files are written straight in, not each under a temporary name and not
    synced one by one: an interrupted run leaves the earlier report set as it was either way."""
    env = environment(user_templates)
    labels = {key: t(key, lang) for key in FORM_LABELS}
    written = 0
    form = load_template(env, "capa/form.html.j2")
    index_template = load_template(env, "capa/index.html.j2")
    folder.mkdir(parents=True, exist_ok=True)
    where = str(folder)

    def write_form(view: CapaView) -> None:
        nonlocal written
        _write_file(os.path.join(where, view.file), render(form, capa=view, L=labels, lang=lang))
        written += 1
        if progress is not None and (written % 1000 == 0 or written == len(capas)):
            progress(written)

    views = _Views(capas, rules, lang, today, write_form)
    path = folder / "index.html"
    _write_streamed(
        index_template, path, capas=views, L=labels, lang=lang, period=period, made_on=str(today)
    )
    views.finish()
    return FormPaths(folder, capas)  # the forms are written in this order (see _Views)
