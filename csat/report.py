"""`csat report`: the statistics workbook of one period, from the store.

Each recorded period is scored with the rules recorded with it (so an old report can always be
reproduced), or with the current rules when asked to rescore. Responses are read once, streamed
into the statistics and the workbook's row sheets; memory holds only the totals and the
per-period figures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from csat.capa import CapaPlan, judge, plan_capas, same_problem
from csat.config import LoadedRules, parse_rules
from csat.errors import CsatError
from csat.models import Rejection, ScoredResponse
from csat.periods import Period, enclosing, parse_period
from csat.render.atomic import FolderSwap
from csat.render.capa import check_templates, write_capa_forms
from csat.render.labels import Lang
from csat.render.workbook import ReportView, StatisticsWorkbook
from csat.scoring import Scorer
from csat.stats import PeriodAccumulator, PeriodStats, change
from csat.store import CapaRecord, Store, customer_key
from csat.workdays import WorkCalendar


class NothingToReport(CsatError):
    """The period has no recorded responses."""


@dataclass(frozen=True)
class ReportResult:
    path: Path
    view: ReportView
    capa_forms: list[Path]


def report_path(out_dir: Path, period: Period) -> Path:
    return out_dir / str(period) / f"csat-{period}.xlsx"


def build_report(
    store: Store,
    period: Period,
    current: LoadedRules,
    out_dir: Path,
    lang: Lang,
    today: date,
    rescore: bool = False,
    templates: Path | None = None,
) -> ReportResult:
    """Write the workbook and the CAPA forms of `period`; `templates` (./templates) may
    override the packaged Jinja templates.

    The report set (workbook, capa/ forms, index) is written into a temporary folder beside
    OUT/PERIOD and swapped into place at the end; the CAPAs issued and judged are recorded in one
    store transaction committed only after the swap. A failure or interruption anywhere leaves
    the earlier report set and the store as they were."""
    check_templates(templates)  # a broken template stops us before anything is written
    recorded = {p: parse_period(p) for p in store.recorded_periods()}
    groups: dict[Period, list[str]] = {}
    for name, p in recorded.items():
        groups.setdefault(enclosing(p, period.months), []).append(name)
    inside = sorted(n for n, p in recorded.items() if period.contains(p))
    if not inside:
        known = ", ".join(sorted(recorded)) or "none"
        raise NothingToReport(
            f"no responses recorded for {period} in {store.path} (recorded periods: {known}); "
            "import surveys with csat score first"
        )
    groups[period] = inside  # the report's own period, whatever its length
    scorers, hashes = _scorers(store, recorded, current, rescore)
    report_rules = scorers[max(inside)].rules
    rejected: list[Rejection] = list(store.rejections_for(inside, str(period)))

    trend: dict[Period, PeriodStats] = {}
    flagged: list[tuple[str, ScoredResponse]] = []
    # CAPAs of earlier periods still waiting for a later answer of their customer
    pending = [c for c in store.pending_capas(str(period)) if _before(c.period, period)]
    waiting = {c.customer_key for c in pending}
    later: dict[str, ScoredResponse] = {}
    # Forms sent for the period: response rate, and each customer's class for the segments
    sent = store.sent_forms(str(period))
    class_of: dict[str, str] = {}
    for s in sent:
        klass = str(s["class"]) if s.get("class") else "—"
        class_of[customer_key(str(s["customer"]), str(s["customer_code"]))] = klass
        class_of.setdefault(customer_key(str(s["customer"]), None), klass)
    segments: dict[str, PeriodAccumulator] = {}
    replied_sent: set[str] = set()
    target = report_path(out_dir, period)

    def write(temp: Path) -> ReportView:
        book = StatisticsWorkbook(temp, report_rules, lang, today)
        for group in sorted(groups):
            is_current = group == period
            names = inside if is_current else groups[group]
            acc = PeriodAccumulator(
                report_rules if is_current else scorers[max(names)].rules, str(group)
            )
            for stored in store.responses(names):
                if stored.superseded:
                    acc.superseded += 1
                    continue
                result = scorers[stored.response.period].score(stored.response)
                if isinstance(result, Rejection):
                    if is_current:
                        rejected.append(_no_longer_scorable(result, stored.response.customer))
                    continue
                key = stored.customer_key  # a name tied to a code counts for the code
                acc.add(result, key)
                if is_current:
                    book.add_response(result)
                    name_key = customer_key(result.response.customer, None)
                    klass = class_of.get(key) or class_of.get(name_key) or "—"
                    if key in class_of or name_key in class_of:
                        replied_sent.add(key)
                    segment = segments.setdefault(klass, PeriodAccumulator(report_rules, klass))
                    segment.add(result, key)
                    if result.flags:
                        flagged.append((key, result))
                    if key in waiting:
                        later[key] = result
            trend[group] = acc.finish()
        stats = trend[period]
        previous = trend.get(period.previous())
        plans = _link_repeats(plan_capas(flagged, report_rules), store, period)
        due = WorkCalendar(report_rules.capa).add_working_days(
            today, report_rules.capa.due_working_days
        )
        records, _ = store.ensure_capas(str(period), plans, today, due)
        for capa in pending:
            response = later.get(capa.customer_key)
            verdict = judge(capa.flags, response, report_rules) if response else None
            if response is not None and verdict is not None:
                store.judge_capa(capa.number, verdict, _evidence(capa, response))
        view = ReportView(
            period=str(period),
            made_on=today,
            rules_hashes=sorted({hashes[n] for n in inside}),
            rescored=rescore,
            stats=stats,
            previous=previous,
            change=change(stats, previous) if previous else None,
            trend=[trend[p] for p in sorted(trend) if p.months == period.months],
            rejected=rejected,
            flagged=flagged,
            capas={(c.customer_key, c.department): c for c in records},
            forms_sent=len(sent),
            replies_to_forms=len(replied_sent),
            segments=[segments[k].finish() for k in sorted(segments)],
        )
        book.finish(view)
        return view

    with FolderSwap(target.parent) as swap:
        try:
            with store.transaction():
                view = write(swap.temp / target.name)
                forms = write_capa_forms(
                    list(view.capas.values()),
                    report_rules,
                    lang,
                    swap.temp / "capa",
                    str(period),
                    today,
                    templates,
                )
                swap.swap()
        except OSError as exc:
            raise CsatError(
                f"cannot write the report into {target.parent}: {exc.strerror or exc}; "
                "the earlier report and the CAPAs are unchanged"
            ) from None
        swap.finish()
    return ReportResult(target, view, [target.parent / "capa" / f.name for f in forms])


def _before(name: str, period: Period) -> bool:
    earlier = parse_period(name)
    return (earlier.year, earlier.start) < (period.year, period.start)


def _link_repeats(plans: list[CapaPlan], store: Store, period: Period) -> list[CapaPlan]:
    """A CAPA for the same customer, department and problem as one of the previous period is
    a repeat: the earlier action did not work (the procedure's 5.4)."""
    earlier = {(c.customer_key, c.department): c for c in store.capas(str(period.previous()))}
    linked = []
    for plan in plans:
        before = earlier.get((plan.customer_key, plan.department))
        if before is not None and same_problem(before.flags, plan.flags):
            plan = replace(plan, repeat_of=before.number)
        linked.append(plan)
    return linked


def _evidence(capa: CapaRecord, response: ScoredResponse) -> dict[str, object]:
    items = [f.item for f in capa.flags if f.item]
    return {
        "period": response.response.period,
        "date": response.response.date.isoformat() if response.response.date else None,
        "ratings": {item: response.items[item].level for item in items if item in response.items},
        "total": response.total,
        "source": response.response.source.as_json(),
    }


def _scorers(
    store: Store, recorded: dict[str, Period], current: LoadedRules, rescore: bool
) -> tuple[dict[str, Scorer], dict[str, str]]:
    """A scorer per recorded period: its own stored rules, or the current ones on rescore."""
    scorers: dict[str, Scorer] = {}
    hashes: dict[str, str] = {}
    by_hash: dict[str, Scorer] = {current.sha256: Scorer(current.rules)}
    for name in recorded:
        stored = None if rescore else store.period_rules(name)
        sha, text = stored if stored else (current.sha256, current.text)
        if sha not in by_hash:
            by_hash[sha] = Scorer(parse_rules(text, f"rules recorded with {name} ({sha[:12]})"))
        scorers[name], hashes[name] = by_hash[sha], sha
    return scorers, hashes


def _no_longer_scorable(r: Rejection, customer: str) -> Rejection:
    return Rejection(
        r.file, r.sheet, r.cell, f"{customer}: not scorable under these rules: {r.reason}"
    )


def summary_json(result: ReportResult) -> dict[str, object]:
    """The figures `csat report --json` prints."""
    v, s = result.view, result.view.stats
    return {
        "period": v.period,
        "workbook": str(result.path),
        "made_on": v.made_on.isoformat(),
        "rules": v.rules_hashes,
        "rescored": v.rescored,
        "responses": s.responses,
        "customers": s.customers,
        "superseded": s.superseded,
        "incomplete": s.incomplete,
        "mean_total": _round(s.mean_total),
        "median_total": _round(s.median_total),
        "grades": {
            g: {"count": s.grade_counts[g], "share": _round(s.grade_shares[g], 4)}
            for g in s.grade_counts
        },
        "flagged": s.flagged,
        "previous": None
        if v.previous is None
        else {
            "period": v.previous.period,
            "mean_total": _round(v.previous.mean_total),
            "mean_total_change": _round(v.change.mean_total if v.change else None),
        },
        "rejected": len(v.rejected),
        "capas": v.capa_counts,
        "capa_forms": str(result.capa_forms[-1]) if result.capa_forms else None,
    }


def _round(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)
