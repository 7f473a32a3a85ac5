"""``duban show`` as a person reads it: a heading, the facts on a few lines, then a section
each for the owners, the text, milestones, targets and escalations (JSON keeps the keys)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..clock import local_time
from ..controls import neutralise
from ..i18n import language, pick, t
from ..labels import domain_label, goal_text, level_label, light_label, scope_label, state_label

_LIST_SEP = {"zh": "、", "en": ", "}


def _facts(pairs: list[tuple[str, Any]]) -> str:
    return " · ".join(
        t("{label}: {value}", label=label, value=value)
        for label, value in pairs
        if value not in (None, "", [])
    )


def sections(d: Mapping[str, Any]) -> Iterator[str]:
    """The lines of one obligation's ``show``."""
    yield " ".join(x for x in (d["code"], pick(d["title"], d["title_en"])) if x)
    if language() == "en" and d["title_en"] and d["title"]:
        yield d["title"]  # the official title under its translation
    light = light_label(d["light"])
    if d["overdue"]:
        light = t("{light}, overdue", light=light) if light else t("overdue")
    yield _facts(
        [
            ("ID", d["id"]),
            (t("State"), state_label(d["state"])),
            (t("Domain"), domain_label(d["domain"])),
            (t("Light"), light),
            (t("Next due"), d["next_due"]),
            (t("Horizon"), d.get("horizon")),
        ]
    )
    yield _facts(
        [
            (t("Region"), d["region"]),
            (t("Plan"), d["plan"]),
            (t("Parent obligation"), f"#{d['parent']}" if d["parent"] else None),
            (t("Last report"), d["last_report"]),
        ]
    )
    by_role: dict[str, list[str]] = {}
    for a in d["assignments"]:
        by_role.setdefault(a["role"], []).append(a["owner"])
    for role, heading in (
        ("lead", "Lead"),
        ("participant", "Participants"),
        ("implementer", "Implementers"),
    ):
        if by_role.get(role):
            yield t(
                "{label}: {value}",
                label=t(heading),
                value=_LIST_SEP[language()].join(by_role[role]),
            )
    body = pick(d["body"], d["body_en"])
    if body:
        yield ""
        yield t("Content")
        yield f"  {body}"
    if d["milestones"]:
        yield ""
        yield t("Milestones")
        for m in d["milestones"]:
            done = t("done {day}", day=m["done"]) if m["done"] else t("pending")
            yield f"  #{m['id']}  {m['due']}  {pick(m['title'], m['title_en'])}（{done}）"
    if d["targets"]:
        yield ""
        yield t("Targets")
        for g in d["targets"]:
            parts = [
                pick(g["name"], g["name_en"]) or g["indicator"],
                scope_label(g["scope"]),
                goal_text(g["comparator"], g["value"], g["unit"]),
                g.get("alternative"),
                g["due"],
                None
                if g.get("source") in (None, "plan")
                else t("suggested by {plugin}", plugin=g["source"]),
            ]
            yield f"  #{g['id']}  " + " · ".join(p for p in parts if p)
    if d["escalations"]:
        yield ""
        yield t("Escalations")
        for e in d["escalations"]:
            when = local_time(e["opened"])
            if e["resolved"]:
                when = f"{when} – {local_time(e['resolved'])}"
            parts = [level_label(e["level"]), e["addressed_to"], when, e["reason"]]
            yield f"  #{e['id']}  " + " · ".join(p for p in parts if p)


def render(d: Mapping[str, Any]) -> str:
    return "".join(neutralise(line) + "\n" for line in sections(d))
