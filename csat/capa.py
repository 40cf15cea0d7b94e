"""CAPA planning (SPEC §6; the procedure's 5.3-5.4): which corrective actions a period's flags
need. Pure. One CAPA per customer, period and responsible department, listing every flag of
that customer the department owns; a low total goes to the overall department."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from csat.config import Rules
from csat.errors import CsatError
from csat.models import Flag, ScoredResponse

# Which statuses each lifecycle step may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "close": (frozenset({"open", "reopened"}), "closed"),
    "verify": (frozenset({"closed"}), "verified"),
    "reopen": (frozenset({"closed", "verified"}), "reopened"),
}
STATUSES = ("open", "closed", "verified", "reopened")


class CapaStateError(CsatError):
    """A lifecycle step that the CAPA's status does not allow."""


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
    customer_key: str
    customer: str
    customer_code: str | None
    department: str
    flags: tuple[Flag, ...]
    comments: str | None
    repeat_of: str | None = None  # the previous period's CAPA for the same problem


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
    plans: list[CapaPlan] = []  # repeat_of is filled in by the caller, who knows the history
    for key, scored in flagged:
        by_department: dict[str, list[Flag]] = {}
        for flag in scored.flags:
            by_department.setdefault(department_of(flag, rules), []).append(flag)
        r = scored.response
        plans += [
            CapaPlan(key, r.customer, r.customer_code, dept, tuple(flags), r.comments)
            for dept, flags in by_department.items()
        ]
    return plans
