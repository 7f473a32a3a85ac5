"""What the screens show, read from the database in one place (no textual here).

Every function takes ``session=`` and an ``as_of`` date and returns plain dicts, so the
screens only lay things out, workers can run these in threads, and tests can call them.
Lists that can grow with the campaign (obligations, escalations, agenda) are windowed or
capped in SQL: nothing here loads 100k rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, case, func, text, type_coerce
from sqlmodel import Session, select

from duban.core import listing, visibility
from duban.core.clock import end_of_day
from duban.core.controls import shown
from duban.core.i18n import pick
from duban.core.labels import route_text
from duban.core.models import (
    LEVEL_ORDER,
    Assignment,
    Escalation,
    Evidence,
    Milestone,
    Obligation,
    Owner,
    Region,
    Role,
    Site,
    Submission,
    Target,
    UserRole,
)
from duban.core.queries import Lean
from duban.core.services.escalations import as_of_then
from duban.core.services.evaluation import target_readings
from duban.core.services.history import history
from duban.core.services.obligations import detail, owners_by_role
from duban.core.services.reports import list_reports, report_period

from . import overview
from .filters import Query

CAP = 1000  # lists that are not windowed stop here, and say so


def open_as_of(as_of: date) -> Any:
    """Escalations opened by the end of ``as_of`` and not resolved by then."""
    return text(visibility.escalation_open("escalation")).bindparams(
        seen_at=visibility.seen_at(as_of)
    )


def level_as_of(as_of: date) -> Any:
    """An escalation's level as it stood at the end of ``as_of`` (``visibility``)."""
    return type_coerce(
        text(visibility.escalation_level("escalation")).bindparams(
            seen_at=visibility.seen_at(as_of)
        ),
        String,
    )


def _level_rank(as_of: date) -> Any:
    return case(
        {level.value: rank for level, rank in LEVEL_ORDER.items()},
        value=level_as_of(as_of),
        else_=-1,
    )


# Obligations table --------------------------------------------------------------------
def count(*, session: Session, query: Query, as_of: date) -> int:
    return listing.count(Lean.of_session(session), query, as_of)


@shown
def window(*, session: Session, query: Query, as_of: date, offset: int, limit: int) -> list[dict]:
    """Rows ``offset .. offset+limit`` of the filtered, sorted list (``duban list`` shape +
    ``level``, the highest open escalation, and the English names of leads and region)."""
    rows = listing.page(Lean.of_session(session), query, as_of, offset=offset, limit=limit)
    if not rows:
        return []
    english = owners_en(session, {name for row in rows for name in row["lead"]})
    levels = top_levels(session=session, obligation_ids=[row["id"] for row in rows], as_of=as_of)
    codes = {row["region_code"] for row in rows if row["region_code"]}
    regions = dict(
        session.exec(select(Region.code, Region.name_en).where(Region.code.in_(codes))).all()
    )
    for row in rows:
        row["level"] = levels.get(row["id"])
        row["lead_en"] = [english.get(name) for name in row["lead"]]
        row["region_en"] = regions.get(row["region_code"])
    return rows


def owners_en(session: Session, names: set[str]) -> dict[str, str]:
    """The English names of these owners, where they have one (the screens pick by language)."""
    if not names:
        return {}
    return dict(
        session.exec(
            select(Owner.name, Owner.name_en).where(
                Owner.name.in_(names), Owner.name_en.is_not(None)
            )
        ).all()
    )


def top_levels(*, session: Session, obligation_ids: list[int], as_of: date) -> dict[int, str]:
    """{obligation id: highest level among its escalations open as of ``as_of``}."""
    best: dict[int, str] = {}
    rows = session.exec(
        select(Escalation.obligation_id, level_as_of(as_of)).where(
            Escalation.obligation_id.in_(obligation_ids), open_as_of(as_of)
        )
    ).all()
    for ob_id, level in rows:
        if LEVEL_ORDER.get(level, -1) > LEVEL_ORDER.get(best.get(ob_id), -1):  # type: ignore[call-overload]
            best[ob_id] = level
    return best


# Dashboard and owners -------------------------------------------------------------------
@shown
def owner_scores(session: Session, as_of: date) -> list[dict[str, Any]]:
    """Owners worst first by the scorecard service's ranking, ranks as the CLI shows them
    (on-time rate included;
    it reads every assignment, so only the owners screen asks; the dashboard's quick
    version is ``overview.worst_owners``)."""
    from duban.core.services.scorecard import scorecard

    rows = scorecard(session=session, as_of=as_of)
    names = {
        o.name: o
        for o in session.exec(select(Owner).where(Owner.name.in_([r["owner"] for r in rows])))
    }
    out = []
    for r in rows:
        levels = {lv: n for lv, n in r["escalations"].items() if n}
        owner = names.get(r["owner"])
        out.append(
            {
                "owner_id": owner.id if owner else None,
                "name": r["owner"],
                "label": pick(owner.name, owner.name_en) if owner else r["owner"],
                "led": r["lead"],
                "participant": r["participant"],
                "overdue": r["overdue"],
                "on_time_rate": r["on_time_rate"],
                "escalations": sum(levels.values()),
                "levels": levels,
                "rank": r["rank"],
                "top_level": max(levels, key=lambda lv: LEVEL_ORDER.get(lv, -1), default=None),  # type: ignore[call-overload]
            }
        )
    return out


@shown
def plugin_panels(session: Session, as_of: date) -> list[dict[str, Any]]:
    """Each plugin's ``duban_dashboard_panels``, flattened; a plugin that raises is skipped."""
    from duban.core.contributions import Panel
    from duban.core.plugins import get_host

    panels = []
    for plugin, result in get_host().call("duban_dashboard_panels", session=session, as_of=as_of):
        for panel in result if isinstance(result, list | tuple) else [result]:
            if isinstance(panel, Panel):
                panels.append(
                    {
                        "key": panel.key,
                        "plugin": panel.plugin or plugin,
                        "title": pick(panel.title, panel.title_en),
                        "rows": [
                            {"label": r.label, "value": r.value, "filter": r.filter, "tone": r.tone}
                            for r in panel.rows
                        ],
                    }
                )
    return panels


# One obligation -----------------------------------------------------------------------
def subject_of(session: Session, target: Target) -> str | None:
    if target.site_id is not None:
        site = session.get(Site, target.site_id)
        return f"site:{site.key}" if site else None
    if target.region_id is not None:
        region = session.get(Region, target.region_id)
        return f"region:{region.code}" if region else None
    return None


def scope_name(session: Session, target: Target) -> str | None:
    """A target's site or region by name, as a person reads it."""
    if target.site_id is not None:
        site = session.get(Site, target.site_id)
        return pick(site.name, site.name_en) if site else None
    if target.region_id is not None:
        region = session.get(Region, target.region_id)
        return pick(region.name, region.name_en) if region else None
    return None


@shown
def target_status(session: Session, target: Target, as_of: date) -> dict[str, Any]:
    """The evaluation service's verdict as of ``as_of``."""
    from duban.core.services.evaluation import evaluate

    ev = evaluate(session=session, target=target, as_of=as_of)
    return {
        "status": ev.status,
        "latest_value": ev.latest_value,
        "latest_date": ev.latest_date,
        "expected": ev.expected,
        "forecast": ev.forecast,
        "detail": ev.detail,
    }


@shown
def obligation(*, session: Session, obligation_id: int, as_of: date) -> dict[str, Any]:
    """Everything the detail screen shows about one obligation."""
    from duban.core.services.obligations import get_obligation

    ob = get_obligation(session=session, ref=obligation_id)
    data = detail(session=session, ob=ob, as_of=as_of)
    english = owners_en(session, {a["owner"] for a in data["assignments"]})
    for a in data["assignments"]:
        a["owner_en"] = english.get(a["owner"])
    region = session.get(Region, ob.region_id) if ob.region_id else None
    data["region_en"] = region.name_en if region else None
    data["level"] = top_levels(session=session, obligation_ids=[ob.id], as_of=as_of).get(ob.id)
    targets = []
    for tg in session.exec(select(Target).where(Target.obligation_id == ob.id).order_by(Target.id)):
        targets.append(
            {
                "id": tg.id,
                "indicator": tg.indicator,
                "name": pick(tg.name, tg.name_en) or tg.indicator,
                "comparator": tg.comparator,
                "value": tg.value,
                "unit": tg.unit or "",
                "due": tg.due,
                "text": tg.text,
                "alternative": route_text(tg.attrs["alternative"])
                if (tg.attrs or {}).get("alternative")
                else None,
                "baseline": (tg.baseline_date, tg.baseline_value)
                if tg.baseline_value is not None and tg.baseline_date is not None
                else None,
                "subject": subject_of(session, tg),
                "scope": scope_name(session, tg),
                "status": target_status(session, tg, as_of),
                "readings": target_readings(session=session, target=tg, as_of=as_of),
            }
        )
    data["target_rows"] = targets
    end = end_of_day(as_of)
    data["escalation_rows"] = [
        {
            "id": e.id,
            "level": e.level,
            "reason": pick(e.reason, e.reason_en),
            "rule": e.rule,
            "opened": e.opened_at,
            "acknowledged": e.acknowledged_at
            if e.acknowledged_at and e.acknowledged_at <= end
            else None,
            "acknowledged_by": e.acknowledged_by
            if e.acknowledged_at and e.acknowledged_at <= end
            else None,
            "resolved": e.resolved_at if e.resolved_at and e.resolved_at <= end else None,
            "manual": e.manual,
        }
        for e in as_of_then(
            session=session,
            rows=session.exec(
                select(Escalation)
                .where(Escalation.obligation_id == ob.id, Escalation.opened_at <= end)
                .order_by(Escalation.opened_at, Escalation.id)
            ).all(),
            cutoff=end,
        )
    ]
    data["evidence"] = [
        {
            "id": ev.id,
            "uri": ev.uri,
            "note": ev.note,
            "sha256": ev.sha256,
            "added_by": ev.added_by,
            "added_at": ev.added_at,
        }
        for ev in session.exec(
            select(Evidence).where(Evidence.obligation_id == ob.id).order_by(Evidence.id)
        )
    ]
    data["submissions"] = [
        {
            "id": s.id,
            "by": s.submitted_by,
            "at": s.submitted_at,
            "note": s.note,
            "decision": s.decision,
            "decided_by": s.decided_by,
            "reason": s.reason,
        }
        for s in session.exec(
            select(Submission).where(Submission.obligation_id == ob.id).order_by(Submission.id)
        )
    ]
    data["reports"] = list_reports(session=session, obligation=ob.id, history=True)
    data["report_period"] = report_period(session=session, ob=ob, as_of=as_of)
    # 操作记录: the obligation's history (``duban history``) as recorded by then, newest first.
    seen = visibility.seen_at(as_of)
    data["audit"] = [e for e in history(session=session, obligation=ob) if e["at"] <= seen][::-1][
        :30
    ]
    data["children"] = session.exec(
        select(func.count()).select_from(Obligation).where(Obligation.parent_id == ob.id)
    ).one()
    return data


def reporting(session: Session, as_of: date) -> dict[str, Any]:
    """The progress reports screen: a member's 待报送, or every lead owner's standing."""
    from duban.core.services.base import current_user
    from duban.core.services.reports import missing, reporting_status

    user = current_user(session)
    if user is not None and user.role == UserRole.member and user.owner_id is not None:
        owner = session.get(Owner, user.owner_id)
        assert owner is not None
        return {
            "mode": "pending",
            "owner": owner.name,
            "rows": missing(session=session, as_of=as_of, owner=owner.name),
        }
    return {"mode": "owners", "rows": reporting_status(session=session, as_of=as_of)}


# Lists --------------------------------------------------------------------------------
@shown
def escalations(
    *, session: Session, as_of: date, level: str | None = None, limit: int = CAP
) -> dict[str, Any]:
    where = [open_as_of(as_of)]
    if level:
        where.append(level_as_of(as_of) == level)
    total = session.exec(select(func.count()).select_from(Escalation).where(*where)).one()
    found = session.exec(
        select(Escalation, Obligation)
        .join(Obligation, Obligation.id == Escalation.obligation_id, isouter=True)
        .where(*where)
        .order_by(_level_rank(as_of).desc(), Escalation.opened_at, Escalation.id)
        .limit(limit)
    ).all()
    # As they stood then: the level, reason and addressee a later raise replaced.
    then = as_of_then(session=session, rows=[e for e, _ in found], cutoff=end_of_day(as_of))
    addressees = {e.addressed_to_id for e in then if e.addressed_to_id}
    owners = {o.id: o for o in session.exec(select(Owner).where(Owner.id.in_(addressees)))}
    rows = [(e, ob, owners.get(e.addressed_to_id)) for e, (_, ob) in zip(then, found, strict=True)]
    counts = overview.ladder_counts(Lean.of_session(session), as_of)
    return {
        "total": total,
        "counts": counts,
        "rows": [
            {
                "id": e.id,
                "level": e.level,
                "obligation_id": e.obligation_id,
                "code": (ob.code or "") if ob else "",  # a hand-made obligation has none
                "title": pick(ob.title, ob.title_en) if ob else "",
                "reason": pick(e.reason, e.reason_en),
                "to": pick(ow.name, ow.name_en) if ow else "",
                "opened": e.opened_at,
                "acknowledged": e.acknowledged_at is not None
                and e.acknowledged_at <= end_of_day(as_of),
            }
            for e, ob, ow in rows
        ],
    }


@shown
def agenda(
    *, session: Session, as_of: date, by: str = "week", horizon_days: int = 182, limit: int = CAP
) -> dict[str, Any]:
    """Pending milestones and target due dates, overdue first, then grouped by week or month."""
    end = as_of + timedelta(days=horizon_days)
    # As recorded by the end of ``as_of``: live obligations then, milestones pending then.
    seen = visibility.seen_at(as_of)
    live = text(overview.LIVE_SQL).bindparams(seen_at=seen)
    pending = text(visibility.milestone_pending("milestone")).bindparams(as_of=as_of, seen_at=seen)
    ms = session.exec(
        select(Milestone.due, Milestone.title, Milestone.title_en, Obligation)
        .join(Obligation, Obligation.id == Milestone.obligation_id)
        .where(Milestone.due <= end, pending, live)
        .order_by(Milestone.due, Obligation.seq, Obligation.id, Milestone.sequence, Milestone.id)
        .limit(limit)
    ).all()
    tg = session.exec(
        select(Target.due, Target.name, Target.name_en, Obligation)
        .join(Obligation, Obligation.id == Target.obligation_id)
        .where(Target.due >= as_of, Target.due <= end, live)
        .order_by(Target.due, Obligation.seq, Target.id)
        .limit(limit)
    ).all()
    items = [
        {
            "due": due,
            "kind": "milestone",
            "obligation_id": ob.id,
            "code": ob.code or "",
            # the milestone's own text: an obligation has several, each due on its own day
            "title": pick(title, title_en) or pick(ob.title, ob.title_en),
        }
        for due, title, title_en, ob in ms
    ]
    items += [
        {
            "due": due,
            "kind": "target",
            "obligation_id": ob.id,
            "code": ob.code or "",
            "title": pick(name, name_en) or pick(ob.title, ob.title_en),
        }
        for due, name, name_en, ob in tg
    ]
    items.sort(key=lambda i: (i["due"], i["code"], i["obligation_id"]))
    items = items[:limit]
    ids = {i["obligation_id"] for i in items}
    leads = {
        i: roles.get(Role.lead, [])
        for i, roles in owners_by_role(session=session, obligation_ids=ids).items()
    }
    english = owners_en(session, {n for names in leads.values() for n in names})
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        item["lead"] = [pick(n, english.get(n)) for n in leads[item["obligation_id"]]]
        item["overdue"] = item["due"] < as_of
        groups.setdefault(bucket(item["due"], as_of, by), []).append(item)
    return {"by": by, "groups": list(groups.items()), "capped": len(items) >= limit}


def bucket(day: date, as_of: date, by: str) -> str:
    """The group an agenda date falls in: ``overdue``, ``2024-W23`` or ``2024-06``."""
    if day < as_of:
        return "overdue"
    if by == "month":
        return f"{day.year}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@shown
def inbox(*, session: Session, limit: int = 200) -> dict[str, Any]:
    """The acting user's in-app messages, newest first."""
    from duban.core.notify.inbox import inbox as user_inbox
    from duban.core.notify.inbox import unread_count

    rows, unread = user_inbox(session=session, limit=limit), unread_count(session=session)
    return {
        "unread": unread,
        "rows": [
            {
                "id": n.id,
                "subject": n.subject,
                "occasion": n.occasion,
                "created": n.created_at,
                "read": n.read_at is not None,
                "payload": n.payload or {},
                "owner_id": n.owner_id,
            }
            for n in rows
        ],
    }


@shown
def plugins() -> dict[str, Any]:
    """The plugin host's view: plugins with status, indicators and escalation rules."""
    from duban.core.plugins import get_host

    host = get_host()
    return {
        "plugins": [
            {
                "name": p.name,
                "version": p.version or "",
                "status": p.status,
                "error": p.error or "",
                "builtin": p.builtin,
                "hooks": p.hooks,
            }
            for p in host.plugins.values()
        ],
        "indicators": [
            {
                "key": i.key,
                "name": i.label,
                "unit": i.unit,
                "direction": i.direction,
                "frequency": i.frequency,
                "plugin": i.plugin,
            }
            for i in sorted(host.indicators().values(), key=lambda i: i.key)
        ],
        "rules": [
            {
                "key": r.key,
                "name": pick(r.name, r.name_en),
                "plugin": r.plugin,
                "defaults": dict(r.defaults),
            }
            for r in sorted(host.rules().values(), key=lambda r: r.key)
        ],
    }


@shown
def owner_choices(session: Session, obligation_id: int) -> list[str]:
    rows = session.exec(
        select(Owner.name)
        .join(Assignment, Assignment.owner_id == Owner.id)
        .where(Assignment.obligation_id == obligation_id)
        .order_by(Assignment.id)
    ).all()
    return list(dict.fromkeys(rows))
