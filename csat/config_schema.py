"""The pydantic schema of weights.yaml (SPEC §2): what `csat config schema` prints, and the
validator whose messages a user sees when the file is not valid.

csat.config validates a file with its own fast path and builds its own light classes; this
module is imported only when that path refuses a file (to say why, in pydantic's words) or for
the JSON schema, so that a command's start does not pay for importing pydantic and building
these models (issue 12). Each model here has the fields, defaults and constraints of the class
of the same name in csat.config; tests/test_config_fast.py checks that they agree.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from csat import config
from csat.config import (
    Cadence,
    DateOrder,
    MissingItems,
    PlainNumbers,
    _rule_problems,
    site_problem,
)
from csat.errors import RulesInvalid

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
NonEmptyAliases = Annotated[list[str], Field(min_length=1)]


def _site(name: str) -> str:
    problem = site_problem(name)
    if problem:
        raise ValueError(problem)
    return name


SiteName = Annotated[str, AfterValidator(_site)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(_Strict):
    zh: str = Field(description="Label printed on Chinese forms and reports (simplified).")
    en: str = Field(description="Label printed on English forms and reports.")


class Level(_Strict):
    number: int = Field(ge=1, le=5, description="The plain number 1-5 that also means this level.")
    labels: Labels = Field(description="How forms and reports print this level.")


class Scale(_Strict):
    description: str = Field(default="", description="Where this scale is used, for people.")
    words: dict[Key, NonEmptyAliases] = Field(
        description="Level key -> the words of this scale for it (zh-Hans, zh-Hant, en). "
        "A word means its level only on a sheet read on this scale."
    )
    numbers: PlainNumbers = Field(
        default=PlainNumbers.level,
        description="What a plain number means: `level` (5 = the level numbered 5), or "
        "`position` (1 = the first word listed here, as in a platform's export by option "
        "number). A `position` scale is used only when pinned (--scale or `scale:`).",
    )


class Item(_Strict):
    labels: Labels = Field(description="How forms and reports print this item.")
    weight: float = Field(gt=0, description="Share of the total, in points; weights sum to 100.")
    points: dict[Key, float] = Field(
        description="Points for each level key; the top level = weight."
    )
    department: Key = Field(description="Key of the department that owns this item's CAPAs.")
    aliases: NonEmptyAliases = Field(description="Column headers and form labels for this item.")


class Flags(_Strict):
    low_score_below: float = Field(
        default=70, ge=0, le=100, description="A rounded total under this is flagged low_score."
    )
    flag_levels: list[Key] = Field(
        default=["dissatisfied", "very_dissatisfied"],
        description="An item rated at one of these levels is flagged dissatisfied_item.",
    )


class Headers(_Strict):
    customer: NonEmptyAliases = Field(description="Headers/labels of the customer name.")
    customer_code: NonEmptyAliases = Field(description="Headers/labels of the customer code.")
    date: NonEmptyAliases = Field(description="Headers/labels of the reply date.")
    comments: NonEmptyAliases = Field(description="Headers/labels of the comments.")
    rating: NonEmptyAliases = Field(
        description="Header of a form's rating column (when a form has no level columns)."
    )
    submitted: list[str] = Field(
        default_factory=list,
        description="Submission-time columns of survey platforms: the reply date when a sheet "
        "has no date column.",
    )
    recommend: list[str] = Field(
        default_factory=list,
        description="The 0-10 'would you recommend us' question (NPS): reported beside the "
        "score, never part of it. Found inside a longer question too.",
    )
    ignore: list[str] = Field(
        default_factory=list,
        description="Columns known to hold no answer (platform metadata, the respondent's own "
        "name or e-mail, a clerk's totals): never the customer, never an item.",
    )


class Marks(_Strict):
    ticked: NonEmptyAliases = Field(description="Cell texts that mark a level column as chosen.")
    unticked: list[str] = Field(description="Cell texts that mean 'not chosen' (blank always is).")
    unanswered: list[str] = Field(description="Rating texts that mean the item was not answered.")


class Dates(_Strict):
    order: DateOrder = Field(
        default=DateOrder.ambiguous,
        description="How to read 12/06/2024: day_first (12 June), month_first (6 December), or "
        "ambiguous (refused where the date decides the period).",
    )
    earliest: date = Field(
        default=date(1990, 1, 1), description="A reply date or period before this is a typo."
    )
    latest_years_ahead: int = Field(
        default=1, ge=0, le=50, description="A reply date this many years after today is a typo."
    )


class Limits(_Strict):
    max_member_bytes: int = Field(
        default=2 * 1024**3, gt=0, description="A workbook part inflating beyond this is rejected."
    )
    max_ratio: float = Field(
        default=100, gt=1, description="A part inflating more than this ratio and beyond..."
    )
    ratio_applies_above_bytes: int = Field(
        default=10 * 1024**2, ge=0, description="...this many bytes is rejected before parsing."
    )
    max_sheet_cells: int = Field(
        default=16_000_000,
        gt=0,
        description="A sheet whose used range (first to last cell) spans more cells is refused "
        "before it is loaded: a stray far cell would otherwise take all memory.",
    )
    max_text_bytes: int = Field(
        default=256 * 1024**2,
        gt=0,
        description="A .csv/.tsv/.txt file larger than this is refused unread.",
    )


class Capa(_Strict):
    due_working_days: int = Field(
        default=10, ge=1, le=250, description="A CAPA is due this many working days after issue."
    )
    holidays_country: str = Field(
        default="CN",
        pattern=r"^[A-Z]{2}$",
        description="Public-holiday calendar (ISO country code) for working days.",
    )
    extra_holidays: list[date] = Field(
        default_factory=list, description="Company days off beyond the public calendar."
    )
    makeup_workdays: list[date] = Field(
        default_factory=list,
        description="Weekend days worked (调休) beyond those the public calendar knows.",
    )


class Survey(_Strict):
    form_number: str = Field(default="QR-BD-012", description="Form number printed on surveys.")
    revision: str = Field(
        default="A/1", description="Form revision; returned forms of another revision are refused."
    )
    company: Labels = Field(
        default=Labels(zh="本公司", en="Our company"), description="Company name on the forms."
    )
    reply_days: int = Field(
        default=14, ge=1, le=365, description="Reply-by date = issue date + this many days."
    )


class Comments(_Strict):
    keywords: dict[Key, list[str]] = Field(
        default_factory=dict,
        description="Item key -> words that show a comment speaks about that item, besides the "
        "item's labels and aliases (e.g. delivery_date: [交期, 延期, late]).",
    )


class Rules(_Strict):
    """The scoring rules of SPEC §2, as written in config/weights.yaml."""

    version: Literal[1] = Field(description="Format version of this file.")
    levels: dict[Key, Level] = Field(description="Rating levels, best first.")
    items: dict[Key, Item] = Field(description="Survey items with weights and points.")
    departments: dict[Key, Labels] = Field(description="Departments that own CAPAs.")
    overall_department: Key = Field(
        default="sales", description="Department that owns low_score CAPAs."
    )
    grades: dict[Annotated[str, Field(pattern=r"^[A-Z]$")], float] = Field(
        description="Grade -> lower bound of its band, best grade first; the last is 0."
    )
    flags: Flags = Field(default_factory=Flags, description="Flag rules.")
    missing_items: MissingItems = Field(
        default=MissingItems.rescale,
        description="What an unanswered item does: rescale|zero|reject.",
    )
    min_answered_weight: float = Field(
        default=60, ge=0, le=100, description="Under rescale, less answered weight is rejected."
    )
    cadence: Cadence = Field(
        default=Cadence.half_year, description="Period a reply date falls in without --period."
    )
    scales: dict[Key, Scale] = Field(
        description="Rating scales; each sheet is read on the one that fits its words (SPEC §3)."
    )
    scale: Key | None = Field(
        default=None, description="Read every sheet on this scale instead of choosing per sheet."
    )
    dates: Dates = Field(default_factory=Dates, description="Reading reply dates.")
    headers: Headers = Field(description="Header and label aliases for import.")
    marks: Marks = Field(description="Tick marks and 'not answered' texts.")
    limits: Limits = Field(
        default_factory=Limits, description="Resource limits for reading input files."
    )
    capa: Capa = Field(default_factory=Capa, description="Corrective-action (CAPA) settings.")
    survey: Survey = Field(default_factory=Survey, description="Blank survey forms (csat survey).")
    comments: Comments = Field(
        default_factory=Comments, description="Tagging customers' comments to items."
    )
    site: SiteName = Field(
        default="",
        description="Site (plant) the replies scored with this file are recorded for, unless "
        "csat score --site says otherwise; empty: no site.",
    )

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Rules:
        problems = _rule_problems(cast(Any, self))  # the same attributes as config.Rules
        if problems:
            raise RulesInvalid(problems)
        return self


def light(value: Any) -> Any:
    """A validated model as csat.config's classes (the same fields, values and order)."""
    if isinstance(value, BaseModel):
        cls = getattr(config, type(value).__name__)
        return cls(**{name: light(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, dict):
        return {k: light(v) for k, v in value.items()}
    if isinstance(value, list):
        return [light(v) for v in value]
    return value
