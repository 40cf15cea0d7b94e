"""`csat report`: the statistics workbook of one period, from the store.

Each recorded period is scored with the rules recorded with it (so an old report can always be
reproduced), or with the current rules when asked to rescore. Responses are read once, streamed
into the statistics and the workbook's row sheets; memory holds only the totals and the
per-period figures.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from csat.analysis import SegmentKind, analyse
from csat.capa import after, department_of, evidence_text, judge, plan_reply
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
from csat.spill import Spill
from csat.stats import PeriodAccumulator, PeriodStats, change
from csat.store import CapaRecord, Store, customer_key
from csat.workdays import WorkCalendar


class NothingToReport(CsatError):
    """The period has no recorded responses."""


@dataclass(frozen=True)
class ReportResult:
    path: Path
    view: ReportView
    capa_forms: Sequence[Path]  # every form, then the index (FormPaths)
    review: list[str] = field(default_factory=list)  # the summary's review sentences, English


def report_path(out_dir: Path, period: Period, site: str | None = None) -> Path:
    """OUT/P/csat-P.xlsx; a site's report goes in OUT/P/site-NAME/ so that it neither replaces
    the group report nor is replaced by it (the group's swap carries the folder over)."""
    folder = out_dir / str(period)
    if site is not None:
        folder = folder / site_folder(site)
    return folder / f"csat-{period}.xlsx"


def site_folder(site: str) -> str:
    """A folder name for a site's report: `site-` and the name with every character that is not
    a letter, digit, `-` or `.` made `_`; when that changed the name, a short hash of it keeps
    two sites apart (`A/B` and `A_B`). The prefix keeps clear of `capa/`."""
    safe = re.sub(r"[^\w.-]|_", "_", site, flags=re.UNICODE).strip(".") or "_"
    if safe != site:
        safe += "-" + hashlib.sha256(site.encode()).hexdigest()[:6]
    return f"site-{safe}"


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
    site: str | None = None,
) -> ReportResult:
    """Write the workbook and the CAPA forms of `period`; `templates` (./templates) may
    override the packaged Jinja templates. `progress(stage, responses read)` is told each
    stage and, while reading, every thousand responses.

    With `site`, the workbook and forms show that site's replies only, but the CAPAs issued
    and judged are those of the group report (every site's replies), so their numbers do not
    depend on which report ran first.

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
            f"no responses recorded for {period} in {store.name} (recorded periods: {known}); "
            "import surveys with csat score first"
        )
    groups[period] = inside  # the report's own period, whatever its length
    imports = store.imports()
    period_sites = sorted({i.site for i in imports if set(i.periods) & set(inside)})
    if site is not None and next(store.responses(inside, site), None) is None:
        known = ", ".join(repr(s) for s in period_sites if s) or "none"
        raise NothingToReport(
            f"no replies recorded for site {site!r} in {period} (sites recorded: {known}); "
            "check the spelling, or record them with csat score --site"
        )
    scorers, hashes = _scorers(store, recorded, current, rescore)
    report_rules = scorers[max(inside)].rules
    rejected: list[Rejection] = list(store.rejections_for(inside, str(period)))
    if site is not None:  # a rejection belongs to its import, and so to the import's site
        site_paths = {i.path for i in imports if i.site == site}
        rejected = [r for r in rejected if r.file in site_paths]

    trend: dict[Period, PeriodStats] = {}
    flagged: Spill[FlaggedReply] = Spill()  # the site's (all, without a site), on disk
    # every site's, whose CAPAs are ensured after the read (the same Spill without a site)
    every_flagged: Spill[FlaggedReply] = flagged if site is None else Spill()
    wanted: set[tuple[str, str, str]] = set()  # a site report's own CAPAs among them
    flagged_keys: set[str] = set()
    site_keys: set[str] = set()  # customers with a reply at the site, any period
    # Answers that may judge a CAPA: of customers with a CAPA not judged yet, of a period
    # after that CAPA's (a rerun's own CAPAs wait, but no answer of the period judges them),
    # and of those flagged now (their next period may be recorded already, when reports run
    # out of order). An answer of the report's own period cannot judge a CAPA of that period
    # (only a later one can), so of the period itself only those of `waiting` are kept,
    # unless the report spans several recorded periods.
    waiting = store.unjudged_customer_keys()
    answers: dict[str, list[ScoredResponse]] = {}
    keep_all_current = len(inside) > 1  # a year's H2 answer judges its own H1 CAPAs
    # Forms sent for the period: response rate, and each customer's class for the segments.
    # They are sent for the group (csat survey knows no site): a site report states no rate.
    sent_all = store.sent_forms(str(period))
    sent = sent_all if site is None else []
    class_of: dict[str, str] = {}
    region_of: dict[str, str] = {}
    for s in sent_all:
        klass = str(s["class"]) if s.get("class") else "—"
        region = str(s["region"]) if s.get("region") else "—"
        by_code = customer_key(str(s["customer"]), str(s["customer_code"]))
        class_of[by_code], region_of[by_code] = klass, region
        class_of.setdefault(customer_key(str(s["customer"]), None), klass)
        region_of.setdefault(customer_key(str(s["customer"]), None), region)
    segments: dict[str, PeriodAccumulator] = {}
    regions: dict[str, PeriodAccumulator] = {}
    by_site: dict[str, PeriodAccumulator] = {}
    tagger = CommentTagger(report_rules)
    comments: Spill[TaggedComment] = Spill()  # for the topics sheet, on disk
    replied_sent: set[str] = set()
    replied_keys: set[str] = set()  # both keys of every reply from a customer sent a form
    target = report_path(out_dir, period, site)

    def write(temp: Path) -> ReportView:
        stage("Reading responses")
        read = 0
        book = StatisticsWorkbook(temp, report_rules, lang, today, sites=period_sites, site=site)
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
                here = site is None or stored.site == site
                if here and site is not None:
                    site_keys.add(stored.customer_key)
                if stored.superseded:
                    if here:
                        acc.superseded += 1
                    continue
                result = scorers[stored.response.period].score(stored.response)
                if isinstance(result, Rejection):
                    if is_current and here:
                        rejected.append(_no_longer_scorable(result, stored.response.customer))
                    continue
                key = stored.customer_key  # a name tied to a code counts for the code
                if is_current and result.flags:
                    flagged_keys.add(key)
                    r = result.response
                    reply = FlaggedReply(
                        key, r.customer, r.customer_code, r.period, result.flags, r.comments
                    )
                    every_flagged.append(reply)
                    if here and site is not None:
                        flagged.append(reply)
                        wanted.update(
                            (r.period, key, department_of(f, report_rules)) for f in result.flags
                        )
                if (
                    (key in waiting and _may_judge(result.response.period, waiting[key]))
                    or (is_current and keep_all_current)
                    or (not is_current and key in flagged_keys)
                ):
                    answers.setdefault(key, []).append(_answer(result))
                if not here:  # another site's reply: it counts for the CAPAs only
                    continue
                acc.add(result, key)
                if is_current:
                    topics = _tag(tagger, result, comments)
                    book.add_response(result, topics, stored.site)
                    # by name too when forms were sent (normalising every name costs, and
                    # fills normalize's cache with them)
                    name_key = customer_key(result.response.customer, None) if class_of else key
                    klass = class_of.get(key) or class_of.get(name_key) or "—"
                    region = region_of.get(key) or region_of.get(name_key) or "—"
                    if key in class_of or name_key in class_of:
                        replied_sent.add(key)
                        replied_keys.update((key, name_key))
                    plant = stored.site or "—"
                    for accs, name in ((segments, klass), (regions, region), (by_site, plant)):
                        if name not in accs:
                            accs[name] = PeriodAccumulator(report_rules, name, detail="totals")
                        accs[name].add(result, key)
            trend[group] = acc.finish()
        tagger.close()  # jieba's dictionary is not needed past the read
        stats = trend[period]
        previous = trend.get(period.previous())
        due = WorkCalendar(report_rules.capa).add_working_days(
            today, report_rules.capa.due_working_days
        )
        # ensure_capas returns numbers and slots only; the records are read in batches below,
        # after the verdicts, into a Spill on disk. A site report ensures every site's CAPAs
        # (numbering stays the group's) and keeps its own.
        # The plans are made again from the flagged replies kept on disk: as plan_capas makes
        # them, in reply order.
        plans = (
            plan
            for f in every_flagged
            for plan in plan_reply(
                f.key, f.period, f.customer, f.customer_code, f.flags, f.comments, report_rules
            )
        )
        own: Spill[str] = Spill()
        for issued in store.ensure_capas(plans, today, due)[0]:
            if site is None or (issued.period, issued.customer_key, issued.department) in wanted:
                own.append(issued.number)
        if every_flagged is not flagged:
            every_flagged.close()
        verdicts = []
        for capa in store.each_capa() if answers else ():  # no answers, nothing to judge
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
        store.judge_capas(verdicts, today)
        register: Spill[CapaRecord] = Spill()
        slots = array("q")  # hash of each own CAPA's slot, by its place in the register
        for c in store.capas_numbered(own):
            register.append(c)
            slots.append(hash((c.period, c.customer_key, c.department)))
        own.close()
        # Then the earlier CAPAs still followed. The report's own are of its periods, never
        # before it, so the periods before it are all there is to read.
        for c in store.each_capa(p for p in store.capa_periods() if _before(p, period)):
            if (c.status != "verified" or _judged_inside(c, period)) and (
                site is None or c.customer_key in site_keys
            ):
                register.append(c)
        trend_stats = [trend[p] for p in sorted(trend) if p.months == period.months]
        class_stats = [segments[k].finish() for k in sorted(segments)]
        region_stats = [regions[k].finish() for k in sorted(regions)]
        # sites as a segment when the group report has more than one
        site_stats = [by_site[k].finish() for k in sorted(by_site)] if len(by_site) > 1 else []
        kinds: dict[SegmentKind, Sequence[PeriodStats]] = {
            "class": class_stats,
            "region": region_stats,
        }
        if site_stats:
            kinds["site"] = site_stats
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
            capas=CapaSlots(register, slots),
            register=register,
            forms_sent=len(sent),
            replies_to_forms=len(replied_sent),
            segments=class_stats,
            unanswered=_unanswered(sent, replied_keys),
            analysis=analyse(report_rules, stats, previous, trend_stats, kinds, comments),
            site=site,
            site_segments=site_stats,
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
    forms = forms.in_folder(target.parent / "capa")

    def label(kind: str, key: str) -> str:
        return (report_rules.items[key] if kind == "item" else report_rules.levels[key]).labels.en

    return ReportResult(target, view, forms, review_lines(view, label, "en"))


Slot = tuple[str, str, str]  # a CAPA's (reply period, customer key, department)


class CapaSlots(Mapping[Slot, CapaRecord]):
    """The report's own CAPAs by slot, as `{slot: c for c in own records}` gives them (a slot
    given twice counts once), for the flags sheet's look-ups. The records stay in the register
    Spill (its first `len(hashes)` items): this holds the hash of each slot and its place in
    the register, sorted by hash, 16 bytes a CAPA instead of the record. A look-up reads the
    record at each place of its hash and compares its slot."""

    def __init__(self, register: Spill[CapaRecord], hashes: array[int]) -> None:
        self._register = register
        by_hash = sorted(range(len(hashes)), key=hashes.__getitem__)
        self._hashes = array("q", (hashes[i] for i in by_hash))
        self._places = array("q", by_hash)
        # A slot given twice (ensure_capas gives it one CAPA, so the same record) is one
        # entry, at its first place with its last record, as in a dict. Equal hashes are read
        # to tell a slot given again from two slots sharing a hash.
        repeated: set[int] = set()
        self._last: dict[int, int] = {}  # first place -> last place, of slots given again
        start, count = 0, len(by_hash)
        for end in range(1, count + 1):
            if end == count or self._hashes[end] != self._hashes[start]:
                if end - start > 1:
                    first: dict[Slot, int] = {}
                    for place in sorted(self._places[start:end]):
                        slot = _slot(register[place])
                        if slot in first:
                            repeated.add(place)
                            self._last[first[slot]] = place
                        else:
                            first[slot] = place
                start = end
        self._order = array("q", (p for p in range(count) if p not in repeated))

    def __getitem__(self, slot: Slot) -> CapaRecord:
        found = self.get(slot)
        if found is None:
            raise KeyError(slot)
        return found

    def get(  # type: ignore[override]  # one signature for both of Mapping.get's
        self, slot: Slot, default: CapaRecord | None = None
    ) -> CapaRecord | None:
        """The flags sheet's look-up, once or twice for every flagged reply."""
        h = hash(slot)
        hashes, i = self._hashes, bisect_left(self._hashes, h)
        found = default
        while i < len(hashes) and hashes[i] == h:
            record = self._register[self._places[i]]
            if (record.period, record.customer_key, record.department) == slot:
                found = record  # the last one wins, as in a dict
            i += 1
        return found

    def __iter__(self) -> Iterator[Slot]:
        return (_slot(self._register[p]) for p in self._order)

    def __len__(self) -> int:
        return len(self._order)

    def values(self) -> ValuesView[CapaRecord]:
        return _Records(self)


class _Records(ValuesView[CapaRecord]):
    """A CapaSlots' records read in register order, each block once."""

    _mapping: CapaSlots

    def __iter__(self) -> Iterator[CapaRecord]:
        slots = self._mapping
        return (slots._register[slots._last.get(p, p)] for p in slots._order)


def _slot(c: CapaRecord) -> Slot:
    return (c.period, c.customer_key, c.department)


def _tag(
    tagger: CommentTagger, s: ScoredResponse, comments: Spill[TaggedComment]
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
    by_hash: dict[str, Scorer] = {current.sha256: Scorer(current.rules, json=False)}
    for name in recorded:
        stored = None if rescore else store.period_rules(name)
        sha, text = stored if stored else (current.sha256, current.text)
        if sha not in by_hash:
            rules = parse_rules(text, f"rules recorded with {name} ({sha[:12]})")
            by_hash[sha] = Scorer(rules, json=False)
        scorers[name], hashes[name] = by_hash[sha], sha
    return scorers, hashes


@lru_cache(maxsize=4096)
def _may_judge(answer: str, capa_periods: tuple[str, ...]) -> bool:
    """Whether an answer of period `answer` is later than one of the CAPAs' periods."""
    return any(after(answer, p) for p in capa_periods)


def _no_longer_scorable(r: Rejection, customer: str) -> Rejection:
    return Rejection(
        r.file, r.sheet, r.cell, f"{customer}: not scorable under these rules: {r.reason}"
    )


def summary_json(result: ReportResult) -> dict[str, object]:
    """The figures `csat report --json` prints."""
    v, s = result.view, result.view.stats
    return {
        "period": v.period,
        "site": v.site,
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
