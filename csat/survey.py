"""`csat survey`: one blank form per customer for a period, recorded as sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from csat.config import LoadedRules, packaged_data_dir
from csat.customers import Customer, read_customers
from csat.errors import CsatError
from csat.periods import Period
from csat.render.forms import PLACEHOLDER_COMPANY, safe_file_name, write_form
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
    check_company(loaded, {language for _, language, _ in plan})
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


class PlaceholderCompany(CsatError):
    """The forms would go out signed by the shipped placeholder (本公司 / Our company)."""


def check_company(loaded: LoadedRules, languages: set[str]) -> None:
    """Forms are never sent signed by the placeholder: the config names the company first."""
    company = loaded.rules.survey.company
    names = {"zh": company.zh, "en": company.en}
    unset = [lg for lg in ("zh", "en") if lg in languages and names[lg] == PLACEHOLDER_COMPANY[lg]]
    if not unset:
        return
    shown = " / ".join(PLACEHOLDER_COMPANY[lg] for lg in unset)
    packaged = loaded.path.resolve() == (packaged_data_dir() / "config" / "weights.yaml").resolve()
    fix = (
        "run csat init --company NAME --company-en NAME in your working folder first "
        "(it copies the config with your company's name in it)"
        if packaged
        else f"set survey.company in {loaded.path}, e.g. "
        'company: {zh: 苏州精工电子有限公司, en: "Suzhou Precision Electronics Co., Ltd."}'
    )
    raise PlaceholderCompany(
        f"the forms would be signed '{shown}', the placeholder of {loaded.path}: {fix}. "
        "No form was written"
    )
