"""`csat survey`: one blank form per customer for a period, recorded as sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from csat.config import LoadedRules
from csat.customers import Customer, read_customers
from csat.errors import CsatError
from csat.periods import Period
from csat.render.forms import safe_file_name, write_form
from csat.store import Store


@dataclass(frozen=True)
class SurveyResult:
    folder: Path
    written: list[tuple[Customer, str, Path]]  # customer, language, file
    reply_by: date
    kept: int = 0  # forms an earlier (interrupted) run wrote and recorded as sent


def make_surveys(
    customers_file: Path,
    period: Period,
    loaded: LoadedRules,
    out_dir: Path,
    today: date,
    store: Store | None,
    reply_by: date | None = None,
    lang: str | None = None,
    force: bool = False,
) -> SurveyResult:
    """Validate the list (nothing is written unless it is clean), then write the forms into
    out_dir/period/, recording each as sent as soon as it is written: an interrupted run leaves
    every form on disk recorded but perhaps the last, and running it again (without --force)
    writes only what is missing. Existing forms are kept unless `force`."""
    rules = loaded.rules
    customers = read_customers(customers_file, rules)
    folder = out_dir / str(period)
    due = reply_by or today + timedelta(days=rules.survey.reply_days)
    taken: set[str] = set()
    plan = [
        (c, lang or c.language, folder / safe_file_name(str(period), c.code, taken))
        for c in customers
    ]
    recorded = (
        {(str(s["customer_code"]), str(s["file"])) for s in store.sent_forms(str(period))}
        if store is not None
        else set()
    )
    done = [p for c, _, p in plan if p.exists() and (c.code, str(p)) in recorded]
    existing = [p for _, _, p in plan if p.exists()]
    # Forms on disk not recorded as sent: an interrupted run leaves at most one (the form being
    # recorded when it stopped); more come from elsewhere and are not ours to overwrite.
    unknown = [p for p in existing if p not in done]
    if existing and not force and (len(done) == len(plan) or len(unknown) > 1):
        shown = ", ".join(p.name for p in existing[:5]) + (" …" if len(existing) > 5 else "")
        raise CsatError(
            f"{folder} already holds forms for {period} ({len(existing)}: {shown}); "
            "nothing was written. Use --force to overwrite them"
        )
    skip = set() if force else set(done)
    todo = [(c, lg, p) for c, lg, p in plan if p not in skip]
    for customer, language, path in todo:
        write_form(path, customer, language, str(period), due, rules, loaded.sha256)
        if store is not None:
            store.record_sent(str(period), [(customer, language, str(path))], today, due)
    return SurveyResult(folder, todo, due, kept=len(skip))
