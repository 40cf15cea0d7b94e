"""Scoring rules: `config/weights.yaml` -> a validated, frozen `Rules` object (SPEC §2).

Validation happens in two steps inside pydantic: field types and unknown keys first, then the
cross-field rules (weights sum to 100, points tables, grade bands, alias clashes). Every problem is
reported at once with the YAML file, line and field it concerns.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from csat.errors import ConfigError, ConfigProblem, RulesInvalid
from csat.text import normalize, normalize_label

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
NonEmptyAliases = Annotated[list[str], Field(min_length=1)]

SITE_MAX = 40  # a plant's short name: it heads columns and goes in a folder name


def site_problem(name: str) -> str | None:
    """Why `name` cannot be a site name, or None: it is shown in sheets, footers and folder
    names, so it is short, printable and has no control characters or edge spaces."""
    if len(name) > SITE_MAX:
        return f"a site name has at most {SITE_MAX} characters, this one {len(name)}"
    if not name.isprintable():
        return "a site name cannot hold control characters, tabs or line breaks"
    if name != name.strip():
        return "a site name cannot start or end with a space"
    return None


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


class PlainNumbers(StrEnum):
    level = "level"
    position = "position"


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


class MissingItems(StrEnum):
    rescale = "rescale"
    zero = "zero"
    reject = "reject"


class Cadence(StrEnum):
    half_year = "half_year"
    quarter = "quarter"
    month = "month"
    year = "year"


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


class DateOrder(StrEnum):
    ambiguous = "ambiguous"
    day_first = "day_first"
    month_first = "month_first"


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
        problems = _rule_problems(self)
        if problems:
            raise RulesInvalid(problems)
        return self

    # Lookup tables built once per Rules object; intake uses them per cell.
    @cached_property
    def scale_words(self) -> dict[str, dict[str, str]]:
        """Scale key -> normalised word -> level key."""
        return {
            key: {normalize(w): lv for lv, words in sc.words.items() for w in words}
            for key, sc in self.scales.items()
        }

    @cached_property
    def scale_positions(self) -> dict[str, dict[int, str]]:
        """Scale key -> option position (1 = first word listed) -> level key."""
        return {key: dict(enumerate(sc.words, start=1)) for key, sc in self.scales.items()}

    @cached_property
    def any_level_word(self) -> frozenset[str]:
        """Every word of every scale: what can head a level column or fill a rating cell."""
        return frozenset(w for table in self.scale_words.values() for w in table)

    @cached_property
    def level_by_number(self) -> dict[int, str]:
        return {lv.number: key for key, lv in self.levels.items()}

    @cached_property
    def item_by_alias(self) -> dict[str, str]:
        table = {normalize_label(a): key for key, it in self.items.items() for a in it.aliases}
        for key, it in self.items.items():
            table.setdefault(normalize_label(it.labels.zh), key)
            table.setdefault(normalize_label(it.labels.en), key)
        return table

    @cached_property
    def field_by_alias(self) -> dict[str, str]:
        """Header/label text -> customer, customer_code, date, comments, rating, submitted,
        or ignore."""
        return {
            normalize_label(alias): name
            for name, aliases in self.headers.model_dump().items()
            for alias in aliases
        }

    @cached_property
    def ticked(self) -> frozenset[str]:
        return frozenset(normalize(m) for m in self.marks.ticked)

    @cached_property
    def unticked(self) -> frozenset[str]:
        return frozenset(normalize(m) for m in self.marks.unticked)

    @cached_property
    def unanswered(self) -> frozenset[str]:
        return frozenset(normalize(m) for m in self.marks.unanswered)

    def grade_for(self, total: float) -> str:
        for grade, lower in self.grades.items():
            if total >= lower:
                return grade
        return list(self.grades)[-1]


def _rule_problems(r: Rules) -> list[tuple[tuple[str | int, ...], str]]:
    """Every cross-field rule of SPEC §2 that `r` breaks, with the path of the field."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    numbers = sorted(lv.number for lv in r.levels.values())
    if numbers != list(range(1, len(numbers) + 1)):
        out.append((("levels",), f"level numbers must be 1..{len(numbers)} once each: {numbers}"))
    best_first = sorted(r.levels, key=lambda k: -r.levels[k].number)
    total_weight = sum(it.weight for it in r.items.values())
    if abs(total_weight - 100) > 1e-9:
        out.append((("items",), f"weights must sum to 100, they sum to {total_weight:g}"))
    for key, it in r.items.items():
        missing = [lv for lv in r.levels if lv not in it.points]
        unknown = [lv for lv in it.points if lv not in r.levels]
        if missing:
            out.append((("items", key, "points"), f"no points for level(s) {', '.join(missing)}"))
        for lv in unknown:
            out.append((("items", key, "points", lv), f"unknown level '{lv}'"))
        for lv, pts in it.points.items():
            if not 0 <= pts <= it.weight:
                out.append(
                    (("items", key, "points", lv), f"{pts:g} is outside 0..weight ({it.weight:g})")
                )
        top = best_first[0] if best_first else None
        if top in it.points and it.points[top] != it.weight:
            out.append(
                (
                    ("items", key, "points", top),
                    f"the top level must score the full weight {it.weight:g}, "
                    f"not {it.points[top]:g}",
                )
            )
        present = [lv for lv in best_first if lv in it.points]
        for better, worse in zip(present, present[1:], strict=False):
            if it.points[worse] > it.points[better]:
                out.append(
                    (
                        ("items", key, "points", worse),
                        f"{worse} ({it.points[worse]:g}) scores more than "
                        f"{better} ({it.points[better]:g})",
                    )
                )
        if it.department not in r.departments:
            out.append((("items", key, "department"), f"unknown department '{it.department}'"))
    if r.overall_department not in r.departments:
        out.append((("overall_department",), f"unknown department '{r.overall_department}'"))
    bounds = list(r.grades.values())
    if not bounds or any(a <= b for a, b in zip(bounds, bounds[1:], strict=False)):
        out.append((("grades",), "grade bands must descend strictly, best grade first"))
    elif bounds[-1] != 0 or bounds[0] > 100:
        out.append((("grades",), "grade bands must cover 0-100: the last lower bound must be 0"))
    for i, lv in enumerate(r.flags.flag_levels):
        if lv not in r.levels:
            out.append((("flags", "flag_levels", i), f"unknown level '{lv}'"))
    for key, sc in r.scales.items():
        seen: dict[str, str] = {}
        for lv, words in sc.words.items():
            if lv not in r.levels:
                out.append((("scales", key, "words", lv), f"unknown level '{lv}'"))
            for i, w in enumerate(words):
                owner = seen.setdefault(normalize(w), lv)
                if owner != lv:
                    out.append(
                        (("scales", key, "words", lv, i), f"word '{w}' also stands for {owner}")
                    )
        if sc.numbers is PlainNumbers.position and len(sc.words) != len(r.levels):
            out.append((("scales", key, "words"), "a position scale lists a word for every level"))
    if not r.scales:
        out.append((("scales",), "at least one scale is needed"))
    if r.scale is not None and r.scale not in r.scales:
        out.append((("scale",), f"unknown scale '{r.scale}': one of {', '.join(r.scales)}"))
    out += _alias_clashes(r)
    for key in r.comments.keywords:
        if key not in r.items:
            out.append((("comments", "keywords", key), f"unknown item '{key}'"))
    return out


def _alias_clashes(r: Rules) -> list[tuple[tuple[str | int, ...], str]]:
    out: list[tuple[tuple[str | int, ...], str]] = []
    groups: list[tuple[str, Mapping[str, list[str]], Any]] = [
        ("items", {k: v.aliases for k, v in r.items.items()}, normalize_label),
        ("headers", r.headers.model_dump(), normalize_label),
    ]
    seen_labels: dict[str, tuple[str, str]] = {}
    for section, aliases_by_key, norm in groups:
        seen: dict[str, str] = {}
        for key, aliases in aliases_by_key.items():
            for i, alias in enumerate(aliases):
                n = norm(alias)
                owner = seen.setdefault(n, key)
                if owner != key:
                    out.append(
                        (
                            (section, key, "aliases", i)
                            if section != "headers"
                            else (section, key, i),
                            f"alias '{alias}' also belongs to {owner}",
                        )
                    )
                other = seen_labels.setdefault(normalize_label(alias), (section, key))
                if other[0] != section:
                    out.append(
                        (
                            (section, key, "aliases", i)
                            if section != "headers"
                            else (section, key, i),
                            f"alias '{alias}' also belongs to {other[0]}.{other[1]}",
                        )
                    )
    return out


# ---------------------------------------------------------------------------------------------
# Loading: YAML with line marks, then the lookup order of SPEC §7.


@dataclass(frozen=True)
class LoadedRules:
    """Rules plus where they came from and the hash that reports state."""

    rules: Rules
    path: Path
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def packaged_data_dir() -> Path:
    """Folder holding the shipped config/ and templates/ (inside the wheel, or the repo root)."""
    inside = Path(str(resources.files("csat"))) / "_data"
    if (inside / "config").is_dir():
        return inside
    return Path(__file__).resolve().parent.parent


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path:
    """Lookup order: --config, then $CSAT_CONFIG, then ./config/weights.yaml, then packaged."""
    if explicit is not None:
        return explicit
    env = os.environ.get("CSAT_CONFIG")
    if env:
        return Path(env)
    local = (cwd or Path()) / "config" / "weights.yaml"
    if local.is_file():
        return local
    return packaged_data_dir() / "config" / "weights.yaml"


def load_rules(path: Path) -> LoadedRules:
    """Read and validate a rules file; raise ConfigError listing every problem."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(shown, None, None, "", f"cannot read: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(shown, None, None, "", "not UTF-8 text")]) from None
    return LoadedRules(parse_rules(text, shown), path, text)


def parse_rules(text: str, shown: str) -> Rules:
    """Validate rules given as YAML text; `shown` names it in errors (a path, or the period
    whose stored rules these are)."""
    data, marks, problems = _parse_yaml(text, shown)
    if problems:
        raise ConfigError(problems)
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(shown, 1, 1, "", "expected a mapping of settings")])
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        found = [(tuple(e["loc"]), _message(e)) for e in exc.errors()]
        raise ConfigError([_locate(shown, marks, loc, msg) for loc, msg in found]) from None
    except RulesInvalid as exc:
        raise ConfigError([_locate(shown, marks, loc, msg) for loc, msg in exc.problems]) from None
    return rules


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see weights.schema.json)"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"])


Marks_ = dict[tuple[str | int, ...], tuple[int, int]]


def _locate(file: str, marks: Marks_, loc: tuple[str | int, ...], msg: str) -> ConfigProblem:
    path = loc
    while path and path not in marks:
        path = path[:-1]
    line, col = marks.get(path, (None, None)) if path else (None, None)
    return ConfigProblem(file, line, col, ".".join(map(str, loc)), msg)


MAX_YAML_DEPTH = 32  # the rules nest 4 deep; anything deeper is not a weights.yaml


def _parse_yaml(text: str, shown: str) -> tuple[Any, Marks_, list[ConfigProblem]]:
    """Compose YAML with the safe loader, keeping each key's line/column; duplicate keys are
    errors rather than silently last-wins. Hostile YAML is refused before a document is built:
    aliases (a billion-laughs file expands a few lines into gigabytes; a recursive alias never
    ends), nesting deeper than MAX_YAML_DEPTH, keys that are not plain text, numbers too long to
    be numbers."""

    def problem(mark: Any, field: str, message: str) -> ConfigProblem:
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return ConfigProblem(shown, line, col, field, message)

    try:
        return _compose(text, _FAST_LOADER, problem)
    except yaml.YAMLError:  # only from libyaml: see _compose
        return _compose(text, yaml.SafeLoader, problem)


# libyaml's parser when PyYAML was built with it: ~2 ms on weights.yaml against ~26 ms in pure
# Python, which every command paid at start (issue 12). Same safe resolver and constructor.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(
    text: str, loader: Any, problem: Callable[[Any, str, str], ConfigProblem]
) -> tuple[Any, Marks_, list[ConfigProblem]]:
    """_parse_yaml with one parser. libyaml refuses the documents PyYAML's own parser does,
    but words the errors differently: on an error, libyaml's is raised, and the caller asks
    the pure-Python parser, whose message (with its line and column) is the one reported."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                return None, {}, [problem(event.start_mark, "", _NO_ALIASES)]
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    message = f"nested more than {MAX_YAML_DEPTH} levels deep"
                    return None, {}, [problem(event.start_mark, "", message)]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        root = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        if loader is not yaml.SafeLoader:
            raise
        detail = getattr(exc, "problem", None) or str(exc)
        mark = getattr(exc, "problem_mark", None)
        return None, {}, [problem(mark, "", f"not valid YAML: {detail}")]
    marks: Marks_ = {}
    problems: list[ConfigProblem] = []

    def build(node: yaml.Node | None, path: tuple[str | int, ...]) -> Any:
        if node is None:
            return None
        marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_COLLECTIONS:
            field = ".".join(map(str, path))
            problems.append(problem(node.start_mark, field, _tag_refused(node.tag)))
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                field = ".".join(map(str, path))
                if not isinstance(key_node, yaml.ScalarNode):
                    message = "a key must be plain text, not a list or mapping"
                    problems.append(problem(key_node.start_mark, field, message))
                    continue
                key = key_node.value
                if key in out:
                    problems.append(
                        problem(
                            key_node.start_mark, ".".join(map(str, (*path, key))), "duplicate key"
                        )
                    )
                marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(child, (*path, i)) for i, child in enumerate(node.value)]
        try:
            return _scalar(node)
        except ValueError:  # e.g. an int of more digits than Python converts (4300)
            field = ".".join(map(str, path))
            problems.append(problem(node.start_mark, field, "number too long to be a number"))
            return None
        except yaml.constructor.ConstructorError:  # !!python/name:…, !custom: never built
            field = ".".join(map(str, path))
            problems.append(problem(node.start_mark, field, _tag_refused(node.tag)))
            return None

    data = build(root, ())
    return data, marks, problems


_NO_ALIASES = (
    "aliases (*name) are not allowed in weights.yaml: write the value out in full "
    "(an alias can make a short file expand without end)"
)


_PLAIN_COLLECTIONS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


def _tag_refused(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"the tag {shown} is not allowed in weights.yaml: write the plain value"


def _scalar(node: yaml.Node) -> Any:
    """Construct one scalar the way the safe loader would (ints, floats, bools, strings)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def json_schema() -> dict[str, Any]:
    """JSON Schema of weights.yaml, for editor completion and checking."""
    schema = Rules.model_json_schema()
    schema["title"] = "csat scoring rules (config/weights.yaml)"
    return schema
