"""`csat report`: the statistics workbook of one period, from the store.

Each recorded period is scored with the rules recorded with it (so an old report can always be
reproduced), or with the current rules when asked to rescore. Responses are read once, streamed
into the statistics and the workbook's row sheets; memory holds only the totals and the
per-period figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from csat.analysis import analyse
from csat.capa import CapaPlan, after, evidence_text, judge, plan_capas
from csat.comments import CommentTagger, TaggedComment
from csat.config import LoadedRules, parse_rules
from csat.errors import CsatError
from csat.models import Rejection, Response, ScoredResponse
from csat.periods import Period, enclosing, parse_period
from csat.render.analysis import review_lines
from csat.render.atomic import FolderSwap
from csat.render.capa import check_templates, write_capa_forms
from csat.render.labels import Lang
from csat.render.workbook import FlaggedReply, ReportView, StatisticsWorkbook, Unanswered
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
    review: list[str] = field(default_factory=list)  # the summary's review sentences, English


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
    progress: Callable[[str, int], None] | None = None,
) -> ReportResult:
    """Write the workbook and the CAPA forms of `period`; `templates` (./templates) may
    override the packaged Jinja templates. `progress(stage, responses read)` is told each
    stage and, while reading, every thousand responses.

    The report set (workbook, capa/ forms, index) is written into a temporary folder beside
    OUT/PERIOD and swapped into place at the end; the CAPAs issued and judged are recorded in one
    store transaction committed only after the swap. A failure or interruption anywhere leaves
    the earlier report set and the store as they were."""
    check_templates(templates)  # a broken template stops us before anything is written

    def stage(name: str, count: int = 0) -> None:
        if progress is not None:
            progress(name, count)

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
    flagged: list[FlaggedReply] = []  # compact: the scored replies themselves are not kept
    plans: list[CapaPlan] = []
    flagged_keys: set[str] = set()
    # Answers that may judge a CAPA: of customers with a CAPA not judged yet, and of those
    # flagged now (their next period may be recorded already, when reports run out of order).
    # An answer of the report's own period cannot judge a CAPA of that period (only a later
    # one can), so of the period itself only those of `waiting` are kept, unless the report
    # spans several recorded periods.
    waiting = store.unjudged_customer_keys()
    answers: dict[str, list[ScoredResponse]] = {}
    keep_all_current = len(inside) > 1  # a year's H2 answer judges its own H1 CAPAs
    # Forms sent for the period: response rate, and each customer's class for the segments
    sent = store.sent_forms(str(period))
    class_of: dict[str, str] = {}
    region_of: dict[str, str] = {}
    for s in sent:
        klass = str(s["class"]) if s.get("class") else "—"
        region = str(s["region"]) if s.get("region") else "—"
        by_code = customer_key(str(s["customer"]), str(s["customer_code"]))
        class_of[by_code], region_of[by_code] = klass, region
        class_of.setdefault(customer_key(str(s["customer"]), None), klass)
        region_of.setdefault(customer_key(str(s["customer"]), None), region)
    segments: dict[str, PeriodAccumulator] = {}
    regions: dict[str, PeriodAccumulator] = {}
    tagger = CommentTagger(report_rules)
    comments: list[TaggedComment] = []
    replied_sent: set[str] = set()
    replied_keys: set[str] = set()  # both keys of every reply from a customer sent a form
    target = report_path(out_dir, period)

    def write(temp: Path) -> ReportView:
        stage("Reading responses")
        read = 0
        book = StatisticsWorkbook(temp, report_rules, lang, today)
        # The report's own period first: its flags say whose later answers to keep.
        for group in sorted(groups, key=lambda g: (g != period, g)):
            is_current = group == period
            names = inside if is_current else groups[group]
            acc = PeriodAccumulator(
                report_rules if is_current else scorers[max(names)].rules,
                str(group),
                detail=is_current or group == period.previous(),
            )
            for stored in store.responses(names):
                read += 1
                if read % 1000 == 0:
                    stage("Reading responses", read)
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
                    topics = _tag(tagger, result, comments)
                    book.add_response(result, topics)
                    name_key = customer_key(result.response.customer, None)
                    klass = class_of.get(key) or class_of.get(name_key) or "—"
                    region = region_of.get(key) or region_of.get(name_key) or "—"
                    if key in class_of or name_key in class_of:
                        replied_sent.add(key)
                        replied_keys.update((key, name_key))
                    for accs, name in ((segments, klass), (regions, region)):
                        if name not in accs:
                            accs[name] = PeriodAccumulator(report_rules, name, detail=True)
                        accs[name].add(result, key)
                    if result.flags:
                        r = result.response
                        flagged.append(
                            FlaggedReply(
                                key, r.customer, r.customer_code, r.period, result.flags, r.comments
                            )
                        )
                        plans.extend(plan_capas([(key, result)], report_rules))
                        flagged_keys.add(key)
                if (
                    key in waiting
                    or (is_current and keep_all_current)
                    or (not is_current and key in flagged_keys)
                ):
                    answers.setdefault(key, []).append(_answer(result))
            trend[group] = acc.finish()
        tagger.close()  # jieba's dictionary is not needed past the read
        stats = trend[period]
        previous = trend.get(period.previous())
        due = WorkCalendar(report_rules.capa).add_working_days(
            today, report_rules.capa.due_working_days
        )
        # Only the numbers are kept of what ensure_capas returns: the records are read again
        # below with the verdicts, and one copy of every CAPA is enough to hold.
        own = [c.number for c in store.ensure_capas(plans, today, due)[0]]
        plans.clear()
        everything = {c.number: c for c in store.capas()}
        verdicts = []
        for capa in everything.values():
            if capa.effectiveness is not None:
                continue
            for response in sorted(
                answers.get(capa.customer_key, []), key=lambda r: parse_period(r.response.period)
            ):
                if not after(response.response.period, capa.period):
                    continue
                verdict = judge(capa.flags, response, scorers[response.response.period].rules)
                if verdict is not None:
                    evidence = _evidence(capa, response)
                    reason = f"{verdict}: {evidence_text(evidence, report_rules, lang)}"
                    verdicts.append((capa.number, verdict, evidence, reason))
                    break
        if store.judge_capas(verdicts, today):
            everything = {c.number: c for c in store.capas()}
        records = [everything[number] for number in own]
        mine = {c.number for c in records}
        register = records + [
            c
            for c in everything.values()
            if c.number not in mine
            and _before(c.period, period)
            and (c.status != "verified" or _judged_inside(c, period))
        ]
        trend_stats = [trend[p] for p in sorted(trend) if p.months == period.months]
        class_stats = [segments[k].finish() for k in sorted(segments)]
        region_stats = [regions[k].finish() for k in sorted(regions)]
        view = ReportView(
            period=str(period),
            made_on=today,
            rules_hashes=sorted({hashes[n] for n in inside}),
            rescored=rescore,
            stats=stats,
            previous=previous,
            change=change(stats, previous) if previous else None,
            trend=trend_stats,
            rejected=rejected,
            flagged=flagged,
            capas={(c.period, c.customer_key, c.department): c for c in records},
            register=register,
            forms_sent=len(sent),
            replies_to_forms=len(replied_sent),
            segments=class_stats,
            unanswered=_unanswered(sent, replied_keys),
            analysis=analyse(
                report_rules,
                stats,
                previous,
                trend_stats,
                {"class": class_stats, "region": region_stats},
                comments,
            ),
        )
        stage("Writing the workbook", read)
        book.finish(view)
        return view

    with FolderSwap(target.parent) as swap:
        try:
            with store.transaction():
                view = write(swap.temp / target.name)
                stage("Writing CAPA forms")
                forms = write_capa_forms(
                    view.register,
                    report_rules,
                    lang,
                    swap.temp / "capa",
                    str(period),
                    today,
                    templates,
                    lambda n: stage("Writing CAPA forms", n),
                )
                swap.swap()
        except OSError as exc:
            raise CsatError(
                f"cannot write the report into {target.parent}: {exc.strerror or exc}; "
                "the earlier report and the CAPAs are unchanged"
            ) from None
        swap.finish()
    forms = [target.parent / "capa" / f.name for f in forms]

    def label(kind: str, key: str) -> str:
        return (report_rules.items[key] if kind == "item" else report_rules.levels[key]).labels.en

    return ReportResult(target, view, forms, review_lines(view, label, "en"))


def _tag(
    tagger: CommentTagger, s: ScoredResponse, comments: list[TaggedComment]
) -> tuple[str, ...]:
    """Tag a reply's comment with the items it speaks about, and keep it for the review."""
    r = s.response
    if not r.comments:
        return ()
    topics = tagger.tag(r.comments)
    bad = tuple(f.item for f in s.flags if f.item is not None)
    comments.append(
        TaggedComment(
            r.customer, r.customer_code, r.period, s.total, s.grade, r.comments, topics, bad
        )
    )
    return topics


def _answer(s: ScoredResponse) -> ScoredResponse:
    """What judging a CAPA reads of an answer (period, date, source, levels, total), without
    the ratings, cells and comment: a report rerun holds one for every customer it flagged."""
    r = s.response
    slim = Response(r.customer, r.customer_code, r.date, r.period, {}, None, r.source)
    return ScoredResponse(slim, s.items, s.total, s.grade, s.complete, s.flags)


def _unanswered(sent: list[dict[str, object]], replied: set[str]) -> list[Unanswered]:
    """Customers sent a form with no reply counted for the period, by code."""
    rows = []
    for s in sent:
        name, code = str(s["customer"]), str(s["customer_code"])
        if customer_key(name, code) in replied or customer_key(name, None) in replied:
            continue

        def opt(field: str, s: dict[str, object] = s) -> str | None:
            return str(s[field]) if s.get(field) else None

        rows.append(
            Unanswered(
                code=code,
                customer=name,
                klass=opt("class"),
                language=str(s["language"]),
                contact=opt("contact"),
                email=opt("email"),
                sent_on=date.fromisoformat(str(s["sent_on"])),
                reply_by=date.fromisoformat(str(s["reply_by"])),
            )
        )
    return rows


def _before(name: str, period: Period) -> bool:
    earlier = parse_period(name)
    return (earlier.year, earlier.start) < (period.year, period.start)


def _judged_inside(capa: CapaRecord, period: Period) -> bool:
    """Whether the answer that judged `capa` lies in `period`."""
    answered = (capa.evidence or {}).get("period")
    return isinstance(answered, str) and period.contains(parse_period(answered))


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
        "statistics": v.analysis.as_json() if v.analysis else None,
        "capas": v.capa_counts,
        "capa_forms": str(result.capa_forms[-1]) if result.capa_forms else None,
    }


def _round(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)
