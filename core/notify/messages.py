"""The words of every message: one reminder or notice, or a digest, in the recipient's
language, as plain text and HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from typing import Any

from ..contributions import Message
from ..i18n import catalog
from ..models import Escalation, Milestone, Obligation
from .occasions import Due, Recipient

# A digest lists this many items in full and counts the rest.
DIGEST_LINES = 50


def tr(lang: str, msgid: str, /, **values: object) -> str:
    """``t()`` in a given language rather than the process's (messages follow the recipient)."""
    text = catalog().get(msgid, msgid) if lang == "zh" else msgid
    return text.format(**values) if values else text


# Words ------------------------------------------------------------------------------------
ROLE_WORDS = {
    "lead": "the lead owner",
    "participant": "a participating owner",
    "implementer": "the implementing owner",
}
LEVEL_WORDS = {
    "remind": "reminder",
    "supervise": "supervision",
    "list": "public listing",
    "summon": "summons",
    "freeze": "regional approval freeze",
    "refer": "referral for accountability",
}


def _pick(zh: str, en: str | None, lang: str) -> str:
    return (en or zh) if lang == "en" else zh


def _label(ob: Obligation | None, lang: str) -> str:
    if ob is None:
        return ""
    title = _pick(ob.title, ob.title_en, lang)
    return f"{ob.code} {title}" if ob.code else title


def when_text(due: date, today: date, lang: str) -> str:
    days = (due - today).days
    if days > 1:
        return tr(lang, "due in {days} days", days=days)
    if days == 1:
        return tr(lang, "due tomorrow")
    if days == 0:
        return tr(lang, "due today")
    return tr(lang, "overdue by {days} days", days=-days)


def level_name(level: str, lang: str) -> str:
    return tr(lang, LEVEL_WORDS[level]) if level in LEVEL_WORDS else level


def _html(title: str, lines: Sequence[tuple[str, str]], footer: str) -> str:
    rows = "".join(
        f'<tr><th align="left">{html.escape(k)}</th><td>{html.escape(v)}</td></tr>'
        for k, v in lines
    )
    return (
        f"<html><body><h3>{html.escape(title)}</h3><table>{rows}</table>"
        f"<p><small>{html.escape(footer)}</small></p></body></html>"
    )


def _text(greeting: str, lines: Sequence[tuple[str, str]], footer: str, lang: str) -> str:
    sep = "：" if lang == "zh" else ": "
    body = "\n".join(f"{k}{sep}{v}" for k, v in lines)
    return f"{greeting}\n\n{body}\n\n{footer}\n"


def render(due: Due, today: date) -> Message:
    """The message for one occasion, in the recipient's language."""
    lang = due.recipient.lang
    ctx = due.context
    ob = ctx.get("obligation")
    label = _label(ob, lang)
    footer = tr(lang, "Sent by duban (督办). Occasion: {occasion}.", occasion=due.occasion)
    greeting = tr(lang, "To {name}:", name=due.recipient.name)
    data: dict[str, Any] = {
        "key": due.key,
        "kind": ctx["kind"],
        "occasion": due.occasion,
        "lang": lang,
        "recipient": due.recipient.name,
        "code": ob.code if ob else None,
        "title": label,
    }
    if ctx["kind"] == "report":
        day: date = ctx["due"]
        owing = ctx["owing"]
        when = when_text(day, today, lang)
        periods = "、".join(sorted({o.period for o in owing}))
        subject = tr(
            lang,
            "[duban reminder] progress reports for {periods}: {when}",
            periods=periods if lang == "zh" else periods.replace("、", ", "),
            when=when,
        )
        lines = [
            (tr(lang, "Reports outstanding"), str(len(owing))),
            (tr(lang, "Due date"), day.isoformat()),
            (tr(lang, "Status"), when),
        ]
        lines += [
            (
                tr(lang, "Task"),
                tr(
                    lang,
                    "{task} ({period})",
                    task=(f"{o.code} " if o.code else "") + _pick(o.title, o.title_en, lang),
                    period=o.period,
                ),
            )
            for o in owing[:DIGEST_LINES]
        ]
        if len(owing) > DIGEST_LINES:
            lines.append(("…", tr(lang, "and {count} more", count=len(owing) - DIGEST_LINES)))
        lines.append(
            (
                tr(lang, "What to do"),
                tr(
                    lang,
                    "Send each task's progress report by the due date "
                    "(duban report add, or the returned form)",
                ),
            )
        )
        severity = "normal"
        data.update(
            due=day.isoformat(),
            when=when,
            obligation_ids=[o.obligation_id for o in owing],
            periods=sorted({o.period for o in owing}),
        )
    elif ctx["kind"] == "reminder":
        m: Milestone = ctx["milestone"]
        when = when_text(m.due, today, lang)
        subject = tr(lang, "[duban reminder] {label}: {when}", label=label, when=when)
        milestone = _pick(m.title, m.title_en, lang)
        lines = [(tr(lang, "Task"), label)]
        if milestone != _pick(ob.title, ob.title_en, lang):
            lines.append((tr(lang, "Milestone"), milestone))
        sep = "、" if lang == "zh" else ", "
        lines += [
            (tr(lang, "Due date"), m.due.isoformat()),
            (tr(lang, "Your role"), sep.join(tr(lang, ROLE_WORDS[r]) for r in ctx["roles"])),
            (tr(lang, "Status"), when),
            (
                tr(lang, "Escalation level"),
                level_name(ctx["level"], lang) if ctx.get("level") else tr(lang, "none"),
            ),
            (
                tr(lang, "What to do"),
                tr(lang, "Overdue: finish it at once and explain the delay to the coordinator")
                if m.due < today
                else tr(lang, "Finish it by the due date and report completion to the coordinator"),
            ),
        ]
        severity = "overdue" if m.due < today else "escalated" if ctx.get("level") else "normal"
        data.update(
            due=m.due.isoformat(),
            milestone_id=m.id,
            obligation_id=ob.id,
            when=when,
            level=ctx.get("level"),
        )
    else:
        esc: Escalation = ctx["escalation"]
        level = level_name(esc.level, lang)
        label = label or f"{esc.subject_type} #{esc.subject_id}"
        event_words = {
            "opened": "{level} started",
            "raised": "raised to {level}",
            "resolved": "{level} lifted",
        }
        what = tr(lang, event_words[ctx["event"]], level=level)
        subject = tr(lang, "[duban escalation] {label}: {what}", label=label, what=what)
        reason = _pick(esc.reason, esc.reason_en, lang)
        lines = [
            (tr(lang, "Task"), label),
            (tr(lang, "Escalation"), what),
            (tr(lang, "Grounds"), reason),
        ]
        if ctx.get("addressed_to") is not None:
            lines.append((tr(lang, "Addressed to"), ctx["addressed_to"].name))
        if esc.resolve_reason and ctx["event"] == "resolved":
            lines.append((tr(lang, "Resolved because"), esc.resolve_reason))
        if ctx.get("due") is not None:
            lines.append((tr(lang, "Due date"), ctx["due"].isoformat()))
        resolved = ctx["event"] == "resolved"
        lines.append(
            (
                tr(lang, "What to do"),
                tr(lang, "Nothing more is needed")
                if resolved
                else tr(lang, "Answer the coordinator and do what the escalation requires"),
            )
        )
        severity = "normal" if resolved else "escalated"
        data.update(
            due=ctx["due"].isoformat() if ctx.get("due") else None,
            escalation_id=esc.id,
            level=esc.level,
            event=ctx["event"],
            obligation_id=esc.obligation_id,
        )
    if due.recipient.calendar:
        lines.append((tr(lang, "Calendar feed"), due.recipient.calendar))
    return _message(subject, greeting, lines, footer, lang, {**data, "severity": severity})


def _message(
    subject: str,
    greeting: str,
    lines: Sequence[tuple[str, str]],
    footer: str,
    lang: str,
    data: dict[str, Any],
) -> Message:
    """Plain text and HTML for people; ``data["lines"]`` for robots, which format their own."""
    return Message(
        subject=subject,
        text=_text(greeting, lines, footer, lang),
        html=_html(subject, lines, footer),
        data={**data, "lines": [list(line) for line in lines]},
    )


def render_digest(
    recipient: Recipient,
    items: Sequence[tuple[Due, Message]],
    today: date,
    start: date,
    *,
    paced: bool = False,
) -> Message:
    """One message folding several: the occasions that fell while no pass ran, or (``paced``)
    more reminders for one robot than it takes in a minute. A paced digest lists every item
    (robots split it into parts that fit); a catch-up digest the first ``DIGEST_LINES``."""
    lang = recipient.lang
    if paced:
        subject = tr(
            lang,
            "[duban digest] {count} reminders for {name}",
            count=len(items),
            name=recipient.name,
        )
        lines = [(m.data.get("due") or d.fall.isoformat(), m.subject) for d, m in items]
        footer = tr(
            lang,
            "Listed in one message because the robot takes only so many messages a minute.",
        )
    else:
        subject = tr(
            lang,
            "[duban digest] {count} reminders since {start}",
            count=len(items),
            start=start.isoformat(),
        )
        lines = [(d.fall.isoformat(), m.subject) for d, m in items[:DIGEST_LINES]]
        if len(items) > DIGEST_LINES:
            lines.append(("…", tr(lang, "and {count} more", count=len(items) - DIGEST_LINES)))
        footer = tr(
            lang,
            "These fell due while duban was not running; "
            "they are listed once here instead of one message each.",
        )
    lines.append(
        (
            tr(lang, "What to do"),
            tr(lang, "Finish each task by its due date and report completion to the coordinator"),
        )
    )
    if recipient.calendar:
        lines.append((tr(lang, "Calendar feed"), recipient.calendar))
    greeting = tr(lang, "To {name}:", name=recipient.name)
    severities = {m.data.get("severity") for _, m in items}
    data = {
        "kind": "digest",
        "occasion": "digest",
        "lang": lang,
        "recipient": recipient.name,
        "items": [d.key for d, _ in items],
        "title": subject,
        "severity": next((s for s in ("overdue", "escalated") if s in severities), "normal"),
    }
    return _message(subject, greeting, lines, footer, lang, data)
