"""`csat capa remind`: CAPAs due within N working days or overdue, per responsible department,
with a reminder text from a Jinja template (templates/capa/reminder.{zh,en}.txt.j2) for cron
to mail. Pure over the store: `today` is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from csat.config import Rules
from csat.render.capa import environment
from csat.render.labels import Lang, t
from csat.store import CapaRecord, Store
from csat.workdays import WorkCalendar


@dataclass(frozen=True)
class Due:
    capa: CapaRecord
    trigger: str
    days_late: int  # calendar days past the due date, 0 when not late
    working_days_left: int  # working days from today to the due date, 0 when due or late

    def as_json(self) -> dict[str, Any]:
        c = self.capa
        return {
            "number": c.number,
            "customer": c.customer,
            "status": c.status,
            "due_date": c.due_date.isoformat(),
            "days_late": self.days_late,
            "working_days_left": self.working_days_left,
            "trigger": self.trigger,
        }


@dataclass(frozen=True)
class Reminder:
    department: str  # key
    name: str  # in the reminder's language
    due: list[Due]
    text: str

    @property
    def overdue(self) -> int:
        return sum(d.days_late > 0 for d in self.due)

    def as_json(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "name": self.name,
            "overdue": self.overdue,
            "capas": [d.as_json() for d in self.due],
            "reminder": self.text,
        }


def _trigger(c: CapaRecord, rules: Rules, lang: Lang) -> str:
    parts = []
    for f in c.flags:
        if f.type == "low_score" or f.item is None:
            parts.append(f"{t('total', lang)} {f.total:.1f}")
        else:
            item = rules.items.get(f.item)
            level = rules.levels.get(f.level or "")
            parts.append(
                f"{getattr(item.labels, lang) if item else f.item} "
                f"{getattr(level.labels, lang) if level else f.level}"
            )
    return ", ".join(parts)


def reminders(
    store: Store,
    rules: Rules,
    today: date,
    within: int,
    lang: Lang,
    department: str | None = None,
    user_templates: Path | None = None,
) -> list[Reminder]:
    """One reminder per department with CAPAs still open (or reopened) and due within `within`
    working days of `today` or already overdue; most urgent first."""
    calendar = WorkCalendar(rules.capa)
    horizon = calendar.add_working_days(today, within)
    by_department: dict[str, list[Due]] = {}
    for c in store.capas():
        if c.status not in ("open", "reopened") or c.due_date > horizon:
            continue
        if department is not None and c.department != department:
            continue
        left = sum(
            calendar.is_working_day(today + timedelta(days=d))
            for d in range(1, (c.due_date - today).days + 1)
        )
        late = max(0, (today - c.due_date).days)
        by_department.setdefault(c.department, []).append(
            Due(c, _trigger(c, rules, lang), late, left)
        )
    env = environment(user_templates)
    template = env.get_template(f"capa/reminder.{lang}.txt.j2")
    company = getattr(rules.survey.company, lang)
    result = []
    for key in sorted(by_department):
        due = sorted(by_department[key], key=lambda d: (d.capa.due_date, d.capa.number))
        d = rules.departments.get(key)
        name = getattr(d, lang) if d else key
        text = template.render(
            department=name,
            today=today.isoformat(),
            within=within,
            capas=[
                {
                    "number": x.capa.number,
                    "customer": x.capa.customer,
                    "due_date": x.capa.due_date.isoformat(),
                    "days_late": x.days_late,
                    "working_days_left": x.working_days_left,
                    "reopened": x.capa.status == "reopened",
                    "trigger": x.trigger,
                }
                for x in due
            ],
            overdue=sum(x.days_late > 0 for x in due),
            company=company,
        )
        result.append(Reminder(key, name, due, text))
    return result
