"""The public naming notice (通报): every item publicly listed (挂牌督办) or worse, ready to
publish as Markdown, HTML or a 公文 in Word (GB/T 9704-2012). Chinese by default; the same
content in English on request. Items are named by their code and title: the public never
sees internal ids."""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, or_, select

from ..clock import end_of_day
from ..gongwen import OfficialDocument, written_date
from ..i18n import language, set_language, t
from ..models import LEVEL_ORDER, Escalation, Setting
from ..settings import get_settings
from .base import SANDBOX
from .escalations import as_of_then, describe
from .obligations import owners_by_role


def notice_items(*, session: Session, as_of: date) -> list[dict[str, Any]]:
    """Escalations open at the end of ``as_of`` at ``[notice] min_level`` or above, gravest first."""
    min_level = get_settings().notice.min_level
    levels = [lv for lv, rank in LEVEL_ORDER.items() if rank >= LEVEL_ORDER[min_level]]
    cutoff = end_of_day(as_of)
    # Levels only climb: anything at or above the bar then is at or above it now.
    rows = list(
        session.exec(
            select(Escalation).where(
                Escalation.level.in_(levels),
                Escalation.opened_at <= cutoff,
                or_(Escalation.resolved_at.is_(None), Escalation.resolved_at > cutoff),
            )
        ).all()
    )
    then = [e for e in as_of_then(session=session, rows=rows, cutoff=cutoff) if e.level in levels]
    items = describe(session=session, rows=then)
    leads = owners_by_role(
        session=session, obligation_ids={r["obligation_id"] for r in items if r["obligation_id"]}
    )
    for item in items:
        item["responsible"] = (
            "、".join(leads.get(item["obligation_id"], {}).get("lead", [])) or item["addressed_to"]
        )
    items.sort(key=lambda r: (-LEVEL_ORDER[r["level"]], r["opened_on"], r["id"]))
    return items


def render_notice(*, session: Session, as_of: date, fmt: str, lang: str = "zh") -> tuple[str, int]:
    """The notice as text in ``fmt`` (md or html) and the number of items in it."""
    previous = language()
    set_language(lang)
    try:
        items = notice_items(session=session, as_of=as_of)
        title = t("Public notice of supervised items (as of {day})", day=as_of.isoformat())
        if items:
            intro = t(
                "As of {day}, the following {n} items are publicly listed for supervision or "
                "their responsible officials have been summoned; they are hereby made public.",
                day=as_of.isoformat(),
                n=len(items),
            )
        else:
            intro = t("As of {day}, no item is publicly listed or summoned.", day=as_of.isoformat())
        if session.get(Setting, SANDBOX) is not None:
            intro = f"{t('Sandbox: a database for training and demos whose clock may be set; not a record.')} {intro}"
        headers = [
            t("No."),
            t("Level"),
            t("Matter"),
            t("Responsible body"),
            t("Addressed to"),
            t("Convened by"),
            t("Reason"),
            t("Since"),
            t("Rectification report due"),
        ]
        cells = [
            [
                str(i),
                r["level_label"],
                r["matter"],
                r["responsible"] or "",
                r["addressed_to"] or "",
                r["convened_by"] or "",
                r["reason"],
                r["opened_on"],
                r["follow_up_due"] or "—",
            ]
            for i, r in enumerate(items, 1)
        ]
        text = (
            _html(title, intro, headers, cells, lang)
            if fmt == "html"
            else _markdown(title, intro, headers, cells)
        )
    finally:
        set_language(previous)
    return text, len(items)


def _md_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown(title: str, intro: str, headers: list[str], cells: list[list[str]]) -> str:
    lines = [f"# {title}", "", intro, ""]
    if cells:
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "---|" * len(headers))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in cells]
        lines.append("")
    return "\n".join(lines)


def _html(title: str, intro: str, headers: list[str], cells: list[list[str]], lang: str) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3em .5em;"
        "vertical-align:top;text-align:left}th{background:#eee}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{esc(intro)}</p>",
    ]
    if cells:
        parts.append("<table>")
        parts.append(
            "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr></thead>"
        )
        parts.append("<tbody>")
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in cells]
        parts.append("</tbody>")
        parts.append("</table>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_notice_docx(
    *, session: Session, as_of: date, path: Path, lang: str = "zh", **head: str | None
) -> int:
    """The notice as a 公文: masthead, title, recipients, the items grouped by level (gravest
    first), signature and date; returns the number of items."""
    previous = language()
    set_language(lang)
    try:
        items = notice_items(session=session, as_of=as_of)
        recipients = (
            head.pop("recipients", None)
            or get_settings().document.recipients
            or t("All responsible bodies")
        )
        doc = OfficialDocument(
            title=t("Notice on items publicly listed for supervision"),
            recipients=recipients,
            dated=as_of,
            **{k: v for k, v in head.items() if v},
        )

        def day_of(iso: str | None) -> str:
            if not iso:
                return "—"
            return written_date(date.fromisoformat(iso)) if lang == "zh" else iso

        day = day_of(as_of.isoformat())
        if not items:
            doc.paragraph(t("As of {day}, no item is publicly listed or summoned.", day=day))
        else:
            doc.paragraph(
                t(
                    "As of {day}, the following {n} items are publicly listed for supervision "
                    "or their responsible officials have been summoned; they are hereby made "
                    "public.",
                    day=day,
                    n=len(items),
                )
            )
        level = None
        for item in items:
            if item["level"] != level:
                level = item["level"]
                doc.heading(t("Items at level {level}", level=item["level_label"]), level=1)
            doc.heading(item["matter"], level=2)
            doc.paragraph(
                t(
                    "Responsible body: {responsible}. Addressed to: {addressed}. Reason: "
                    "{reason}. At this level since {since}; written rectification report "
                    "due {due}.",
                    responsible=item["responsible"] or "—",
                    addressed=item["addressed_to"] or "—",
                    reason=item["reason"],
                    since=day_of(item["opened_on"]),
                    due=day_of(item["follow_up_due"]),
                )
            )
        if items:
            doc.paragraph(
                t(
                    "The responsible bodies are to rectify the items above without delay and "
                    "report in writing by the dates given."
                )
            )
        doc.save(path)
    finally:
        set_language(previous)
    return len(items)
