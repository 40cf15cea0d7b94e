"""CAPA planning and lifecycle (SPEC §6; the procedure's 5.3-5.4). Pure. One CAPA per customer,
reply period and responsible department, listing every flag of that customer the department
owns; a low total goes to the overall department. A CAPA's state is derived from its
append-only history of steps; a later period's answer judges whether the action worked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from csat.config import Rules
from csat.errors import CsatError
from csat.models import Flag, ScoredResponse
from csat.periods import parse_period

# Which statuses each lifecycle step may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "close": (frozenset({"open", "reopened"}), "closed"),
    "verify": (frozenset({"closed"}), "verified"),
    "reopen": (frozenset({"closed", "verified"}), "reopened"),
}
STATUSES = ("open", "closed", "verified", "reopened")
VERDICTS = ("effective", "ineffective", "none")  # none: not judged yet (a --verdict filter value)
# Steps of the history (capa_events.step): the lifecycle steps plus what reports record.
STEPS = ("issued", "closed", "verified", "reopened", "judged", "escalated")
_STATUS_AFTER = {
    "issued": "open",
    "closed": "closed",
    "verified": "verified",
    "reopened": "reopened",
}
_STEP_OF = {"close": "closed", "verify": "verified", "reopen": "reopened"}


class CapaStateError(CsatError):
    """A lifecycle step that the CAPA's status does not allow."""


@dataclass(frozen=True)
class CapaEvent:
    """One row of a CAPA's append-only history. `on` is None only for steps carried over from
    a schema-5 store whose date that store had overwritten."""

    step: str
    on: date | None
    by: str
    text: str | None = None
    verdict: str | None = None  # judged: "effective" | "ineffective"
    evidence: dict[str, Any] | None = None  # judged: the later reply that decided it
    # when it was entered, for a step recorded by hand: a backdated --date stays visible
    recorded_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "date": self.on.isoformat() if self.on else None,
            "by": self.by,
            "text": self.text,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "recorded_at": self.recorded_at,
        }


@dataclass(frozen=True)
class CapaState:
    """What the history says now: the fields of the current cycle only (a note of a
    verification that a reopen undid is history, not state)."""

    status: str = "open"
    action: str | None = None
    closed_on: date | None = None
    verified_on: date | None = None
    note: str | None = None
    reopen_reason: str | None = None
    effectiveness: str | None = None
    evidence: dict[str, Any] | None = None


def derive(history: Sequence[CapaEvent]) -> CapaState:
    """The current state from the history, oldest step first."""
    status = "open"
    action = reason = note = verdict = None
    closed_on = verified_on = None
    evidence: dict[str, Any] | None = None
    for e in history:
        status = _STATUS_AFTER.get(e.step, status)
        if e.step == "closed":
            action, closed_on, verified_on, note = e.text, e.on, None, None
        elif e.step == "verified":
            note, verified_on = e.text, e.on
        elif e.step == "reopened":
            reason, closed_on, verified_on, note = e.text, None, None, None
        elif e.step == "judged":
            verdict, evidence = e.verdict, e.evidence
    return CapaState(
        status=status,
        action=action,
        closed_on=closed_on,
        verified_on=verified_on,
        note=note,
        reopen_reason=reason if status == "reopened" else None,
        effectiveness=verdict,
        evidence=evidence,
    )


def check_step(
    number: str,
    history: Sequence[CapaEvent],
    issue_date: date,
    step: str,
    on: date,
    text: str | None,
    by: str,
    today: date,
) -> tuple[str, str]:
    """Refuse a step that cannot be true (CapaStateError); else (history step, clean text)."""
    what = {"close": "--action", "verify": "--note", "reopen": "--reason"}[step]
    clean = (text or "").strip()
    if not clean:
        raise CapaStateError(
            f"cannot {step} {number}: {what} is empty; say what was done, it is the record"
        )
    if not by.strip():
        raise CapaStateError(f"cannot {step} {number}: --by is empty; say who did it")
    next_status(number, derive(history).status, step)
    if on > today:
        raise CapaStateError(
            f"cannot {step} {number} on {on}: that is after today ({today}); "
            "record a step when it has happened"
        )
    if on < issue_date:
        raise CapaStateError(
            f"cannot {step} {number} on {on}: it was issued on {issue_date}; check --date"
        )
    # Lifecycle steps only: a verdict or an escalation a report recorded later does not stop
    # the department recording a close it made before.
    dated = [e for e in history if e.on is not None and e.step in _STATUS_AFTER]
    last = max(dated, key=lambda e: e.on or issue_date, default=None)
    if last is not None and last.on is not None and on < last.on:
        raise CapaStateError(
            f"cannot {step} {number} on {on}: its last step ({last.step}) is dated {last.on}; "
            "steps are recorded in order, check --date"
        )
    return _STEP_OF[step], clean


def next_status(number: str, status: str, step: str) -> str:
    """The status after `step`, or a CapaStateError saying what to do instead."""
    allowed, target = TRANSITIONS[step]
    if status not in allowed:
        hint = {
            "close": "it is already closed; reopen it first if the action must change",
            "verify": "only a closed CAPA can be verified; close it with the action taken first",
            "reopen": "it is still open",
        }[step]
        raise CapaStateError(f"cannot {step} {number}: status is {status}; {hint}")
    return target


@dataclass(frozen=True)
class CapaPlan:
    period: str  # the flagged reply's recorded period: a flag has one CAPA whatever reports it
    customer_key: str
    customer: str
    customer_code: str | None
    department: str
    flags: tuple[Flag, ...]
    comments: str | None


def same_problem(a: tuple[Flag, ...], b: tuple[Flag, ...]) -> bool:
    """Whether two CAPAs share a flagged item (or both cover a low total)."""

    def problems(flags: tuple[Flag, ...]) -> set[str | None]:
        return {f.item if f.type == "dissatisfied_item" else "low_score" for f in flags}

    return bool(problems(a) & problems(b))


def judge(flags: tuple[Flag, ...], later: ScoredResponse, rules: Rules) -> str | None:
    """ "effective" when a later response rates every flagged item outside the flag levels (and
    the total is no longer low, where a low total was flagged); "ineffective" when any is
    flagged again; None when the later response does not answer a flagged item."""
    undecided = False
    for f in flags:
        if f.type == "low_score":
            if later.total < rules.flags.low_score_below:
                return "ineffective"
            continue
        level = later.items[f.item].level if f.item in later.items else None
        if level is None:
            undecided = True
        elif level in rules.flags.flag_levels:
            return "ineffective"
    return None if undecided else "effective"


def department_of(flag: Flag, rules: Rules) -> str:
    if flag.type == "low_score" or flag.item is None:
        return rules.overall_department
    return rules.items[flag.item].department


def plan_capas(flagged: Iterable[tuple[str, ScoredResponse]], rules: Rules) -> list[CapaPlan]:
    """CAPAs for (customer key, flagged response) pairs, in response order, then by the order
    of each response's flags."""
    plans: list[CapaPlan] = []  # repeats are linked by the store, which knows the history
    for key, scored in flagged:
        r = scored.response
        plans += plan_reply(
            key, r.period, r.customer, r.customer_code, scored.flags, r.comments, rules
        )
    return plans


def plan_reply(
    key: str,
    period: str,
    customer: str,
    code: str | None,
    flags: Sequence[Flag],
    comments: str | None,
    rules: Rules,
) -> list[CapaPlan]:
    """The CAPAs of one flagged reply, by the order of its flags: what plan_capas plans for
    it, from the facts a report keeps of a flagged reply."""
    by_department: dict[str, list[Flag]] = {}
    for flag in flags:
        by_department.setdefault(department_of(flag, rules), []).append(flag)
    return [
        CapaPlan(period, key, customer, code, dept, tuple(found), comments)
        for dept, found in by_department.items()
    ]


class Issued(Protocol):
    """What repeat linking needs of a recorded CAPA."""

    @property
    def number(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def customer_key(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def flags(self) -> tuple[Flag, ...]: ...
    @property
    def repeat_of(self) -> str | None: ...


def repeat_links(capas: Sequence[Issued]) -> list[tuple[str, str]]:
    """(later, earlier) CAPA numbers not linked yet, where the later one is for the same
    customer, department and problem in the period right after the earlier one's. Looking at
    every CAPA makes the links whichever order the periods were reported in."""
    by_slot = {(c.period, c.customer_key, c.department): c for c in capas}
    links = []
    for c in capas:
        if c.repeat_of is not None:
            continue
        before = by_slot.get((str(parse_period(c.period).previous()), c.customer_key, c.department))
        if before is not None and same_problem(before.flags, c.flags):
            links.append((c.number, before.number))
    return links


def after(later: str, earlier: str) -> bool:
    """Whether period `later` starts after period `earlier` has ended."""
    a, b = parse_period(later), parse_period(earlier)
    return a.year * 12 + a.start >= b.year * 12 + b.start + b.months


def evidence_text(evidence: dict[str, Any], rules: Rules, lang: str = "zh") -> str:
    """The later reply that judged a CAPA, in words: period, date, where, the flagged items'
    ratings and the total."""
    src = evidence.get("source") or {}
    where = " ".join(
        str(x)
        for x in (
            src.get("file"),
            src.get("sheet"),
            (f"第{src['row']}行" if lang == "zh" else f"row {src['row']}")
            if src.get("row")
            else None,
        )
        if x
    )
    ratings = []
    for item, level in (evidence.get("ratings") or {}).items():
        name = rules.items[item].labels if item in rules.items else None
        word = rules.levels[level].labels if level in rules.levels else None
        unanswered = "未答" if lang == "zh" else "unanswered"
        rated = getattr(word, lang) if word else (level or unanswered)
        ratings.append(f"{getattr(name, lang) if name else item} {rated}")
    total = evidence.get("total")
    if total is not None:
        ratings.append(f"{'总分' if lang == 'zh' else 'total'} {float(total):.1f}")
    reply = "回复" if lang == "zh" else "reply"
    when = f" {evidence['date']}" if evidence.get("date") else ""
    head = f"{evidence.get('period')} {reply}{when}"
    return f"{head} ({where}): " + ", ".join(ratings) if where else f"{head}: " + ", ".join(ratings)
