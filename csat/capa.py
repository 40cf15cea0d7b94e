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


def department_of(flag: Flag, rules: Rules) -> str:
    if flag.type == "low_score" or flag.item is None:
        return rules.overall_department
    return rules.items[flag.item].department


def plan_capas(flagged: Iterable[tuple[str, ScoredResponse]], rules: Rules) -> list[CapaPlan]:
    """CAPAs for (customer key, flagged response) pairs, in response order, then by the order
    of each response's flags."""
    plans: list[CapaPlan] = []
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
