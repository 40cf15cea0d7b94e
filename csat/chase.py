"""`csat chase`: who was sent a survey for a period and has not replied, with a reminder each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from csat.config import Rules
from csat.customers import read_customers
from csat.periods import Period, parse_period
from csat.render.capa import environment, load_template, render
from csat.store import Store, customer_key


@dataclass(frozen=True)
class Missing:
    code: str
    customer: str
    language: str
    contact: str | None
    email: str | None
    sent_on: date | None
    reply_by: date | None
    days_since_sent: int | None
    days_late: int
    reminder: str

    def as_json(self) -> dict[str, object]:
        return {
            "customer_code": self.code,
            "customer": self.customer,
            "language": self.language,
            "contact": self.contact,
            "email": self.email,
            "sent_on": self.sent_on.isoformat() if self.sent_on else None,
            "reply_by": self.reply_by.isoformat() if self.reply_by else None,
            "days_since_sent": self.days_since_sent,
            "days_late": self.days_late,
            "reminder": self.reminder,
        }


def not_replied(
    store: Store,
    period: Period,
    rules: Rules,
    today: date,
    customers_file: Path | None = None,
    user_templates: Path | None = None,
) -> list[Missing]:
    """Customers sent a form for `period` (or on the list) without a recorded reply in it."""
    recorded = [p for p in store.recorded_periods() if period.contains(parse_period(p))]
    replied = store.customer_keys(recorded)
    expected: dict[str, dict[str, object]] = {
        str(s["customer_code"]): s for s in store.sent_forms(str(period))
    }
    if customers_file is not None:
        for c in read_customers(customers_file, rules):
            expected.setdefault(
                c.code,
                {
                    "customer_code": c.code,
                    "customer": c.name,
                    "language": c.language,
                    "contact": c.contact,
                    "email": c.email,
                    "sent_on": None,
                    "reply_by": None,
                },
            )
    env = environment(user_templates)
    reminders = {lang: load_template(env, f"reminder.{lang}.txt.j2") for lang in ("zh", "en")}
    company = rules.survey.company
    missing = []
    for code, s in sorted(expected.items()):
        name = str(s["customer"])
        if customer_key(name, code) in replied or customer_key(name, None) in replied:
            continue
        sent_on = date.fromisoformat(str(s["sent_on"])) if s.get("sent_on") else None
        reply_by = date.fromisoformat(str(s["reply_by"])) if s.get("reply_by") else None
        late = (today - reply_by).days if reply_by and today > reply_by else 0
        lang = "en" if s.get("language") == "en" else "zh"
        contact = str(s["contact"]) if s.get("contact") else None
        reminder = render(
            reminders[lang],
            contact=contact,
            customer=name,
            code=code,
            period=str(period),
            sent_on=sent_on.isoformat() if sent_on else "—",
            reply_by=reply_by.isoformat() if reply_by else "—",
            days_late=late,
            company=company.zh if lang == "zh" else company.en,
        )
        missing.append(
            Missing(
                code,
                name,
                lang,
                contact,
                str(s["email"]) if s.get("email") else None,
                sent_on,
                reply_by,
                (today - sent_on).days if sent_on else None,
                late,
                reminder,
            )
        )
    return missing
