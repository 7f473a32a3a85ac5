"""Decomposition (层层分解落实): one child obligation per city or county, led by that
region's people's government, with the parent's milestones and (optionally) targets copied.

A split parent's progress and overdue state come from its children: it is overdue when any
child is, and its own milestones no longer raise escalations (the children's do).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from .. import audit
from ..errors import Conflict, UserError
from ..i18n import t
from ..models import Milestone, Obligation, Owner, Region, RegionLevel, Site, Target
from .base import now, require_coordinator, snapshot
from .obligations import CLOSED_STATES, add_obligation, get_obligation, new_uid, overdue_clause
from .regions import government_name

LEVELS = (RegionLevel.city.value, RegionLevel.county.value)
_CHUNK = 900


def _scope_regions(session: Session, ob: Obligation, level: str) -> list[Region]:
    """Regions at ``level`` inside the obligation's scope: its region, else the regions its
    plan task names (attrs.regions), else the whole tree."""
    roots: list[Region] = []
    if ob.region_id is not None:
        roots = [session.get(Region, ob.region_id)]
    else:
        codes = [str(c) for c in (ob.attrs or {}).get("regions") or []]
        if codes:
            roots = list(session.exec(select(Region).where(Region.code.in_(codes))).all())
    query = select(Region).where(Region.level == level)
    if roots:
        by_level: list[Region] = []
        for root in roots:
            if root.level == level:
                by_level.append(root)
                continue
            below = session.exec(query.where(Region.path.startswith(root.path + "/"))).all()
            if below:
                by_level.extend(below)
            else:  # a county named while splitting by city: its city takes it on
                above = [r for r in session.exec(query).all() if root.path.startswith(r.path + "/")]
                by_level.extend(above)
        found = {r.id: r for r in by_level}
        regions = sorted(found.values(), key=lambda r: r.code)
    else:
        regions = list(session.exec(query.order_by(Region.code)).all())
    if ob.region_id is not None and [r.id for r in regions] == [ob.region_id]:
        return []  # nothing to divide: the obligation already is that one region's
    return regions


def split(*, session: Session, ref: str | int, by: str, targets: bool = False) -> list[Obligation]:
    """Create one child per region at ``by`` level; returns the children."""
    require_coordinator(session)
    if by not in LEVELS:
        raise UserError(
            t("--by: must be one of {choices}, not {value!r}", choices=", ".join(LEVELS), value=by)
        )
    ob = get_obligation(session=session, ref=ref)
    if ob.state in CLOSED_STATES:
        raise Conflict(
            t("obligation #{id} is {state}; it cannot be split", id=ob.id, state=t(ob.state))
        )
    if (ob.attrs or {}).get("split"):
        raise Conflict(
            t(
                "obligation #{id} is already split by {level}",
                id=ob.id,
                level=t(ob.attrs["split"]["by"]),
            )
        )
    regions = _scope_regions(session, ob, by)
    if not regions:
        raise UserError(
            t(
                "obligation #{id}: no {level} lies within its scope; nothing to split",
                id=ob.id,
                level=t(by),
            )
        )
    governments = {
        o.region_id: o
        for o in session.exec(
            select(Owner).where(
                Owner.kind == "government", Owner.region_id.in_([r.id for r in regions])
            )
        ).all()
    }
    missing = [government_name(r) for r in regions if r.id not in governments]
    if missing:
        raise UserError(
            t(
                "--by {level}: no owner for {names}; add them with `duban owner add`",
                level=by,
                names="、".join(missing[:5]) + ("…" if len(missing) > 5 else ""),
            )
        )
    milestones = list(
        session.exec(
            select(Milestone)
            .where(Milestone.obligation_id == ob.id)
            .order_by(Milestone.due, Milestone.id)
        ).all()
    )
    parent_targets = (
        list(
            session.exec(
                select(Target).where(Target.obligation_id == ob.id).order_by(Target.id)
            ).all()
        )
        if targets
        else []
    )
    site_regions = _site_regions(session, parent_targets)
    children = []
    for region in regions:
        child = add_obligation(
            session=session,
            title=f"{ob.title}（{region.name}）",
            title_en=f"{ob.title_en} ({region.name_en or region.name})" if ob.title_en else None,
            body=ob.body,
            body_en=ob.body_en,
            leads=[governments[region.id].name],
            domain=ob.domain,
            region=region.code,
            code=ob.code,
            parent=ob,
            seq=ob.seq,
            attrs={"split_of": ob.id, "region": region.code},
            check_role=False,
        )
        for ms in milestones:
            copy = Milestone(
                obligation_id=child.id,
                title=ms.title,
                title_en=ms.title_en,
                due=ms.due,
                uid=new_uid(),
                updated_at=now(session),
            )
            session.add(copy)
            session.flush()
            audit.record(session, "milestone.add", "milestone", copy.id, after=snapshot(copy))
        for tg in parent_targets:
            copied = _copy_target(session, tg, child, region, site_regions)
            if copied is not None:
                audit.record(session, "target.add", "target", copied.id, after=snapshot(copied))
        children.append(child)
    before = snapshot(ob)
    ob.attrs = {
        **(ob.attrs or {}),
        "split": {"by": by, "children": len(children), "targets": targets},
    }
    ob.version += 1
    ob.updated_at = now(session)
    session.add(ob)
    session.flush()
    audit.record(
        session,
        "obligation.split",
        "obligation",
        ob.id,
        before=before,
        after={**snapshot(ob), "children": [c.id for c in children]},
    )
    return children


def _site_regions(session: Session, targets: list[Target]) -> dict[int, str]:
    """{site id: the path of its region} for site-scoped targets."""
    ids = [tg.site_id for tg in targets if tg.site_id is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(Site.id, Region.path)
        .join(Region, Region.id == Site.region_id)
        .where(Site.id.in_(ids))
    ).all()
    return dict(rows)


def _copy_target(
    session: Session, tg: Target, child: Obligation, region: Region, site_regions: dict[int, str]
) -> Target | None:
    """The parent's target for one region: the same goal there. A site target goes only to
    the region holding the site. A regional baseline does not carry over to a sub-region."""
    if tg.site_id is not None:
        path = site_regions.get(tg.site_id)
        if path is None or not (path == region.path or path.startswith(region.path + "/")):
            return None
        region_id, baseline = None, (tg.baseline_value, tg.baseline_date)
    else:
        region_id, baseline = region.id, (None, None)
    copy = Target(
        obligation_id=child.id,
        indicator=tg.indicator,
        name=tg.name,
        name_en=tg.name_en,
        comparator=tg.comparator,
        value=tg.value,
        unit=tg.unit,
        due=tg.due,
        region_id=region_id,
        site_id=tg.site_id,
        baseline_value=baseline[0],
        baseline_date=baseline[1],
        text=tg.text,
        attrs={**(tg.attrs or {}), "split_of": tg.id},
        uid=new_uid(),
        updated_at=now(session),
    )
    session.add(copy)
    session.flush()
    return copy


@dataclass(frozen=True)
class Rollup:
    """A split parent's state from its descendants."""

    children: int
    closed: int
    overdue: int

    @property
    def progress(self) -> float:
        return self.closed / self.children if self.children else 0.0

    @property
    def is_overdue(self) -> bool:
        return self.overdue > 0


def rollup(*, session: Session, parent_ids: Iterable[int], as_of: date) -> dict[int, Rollup]:
    """{parent id: Rollup} over direct children; a child that is itself split counts as
    overdue when any of its own children is."""
    ids = list(parent_ids)
    children: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    for start in range(0, len(ids), _CHUNK):
        for cid, pid, state in session.exec(
            select(Obligation.id, Obligation.parent_id, Obligation.state).where(
                Obligation.parent_id.in_(ids[start : start + _CHUNK])
            )
        ):
            children[pid].append((cid, state))
    child_ids = [cid for rows in children.values() for cid, _ in rows]
    overdue = overdue_ids(session=session, as_of=as_of) & set(child_ids)
    closed = {s.value for s in CLOSED_STATES}
    return {
        pid: Rollup(
            children=len(rows),
            closed=sum(1 for _, s in rows if s in closed),
            overdue=sum(1 for cid, _ in rows if cid in overdue),
        )
        for pid, rows in children.items()
    }


def overdue_ids(*, session: Session, as_of: date) -> set[int]:
    """Obligations overdue as of ``as_of``; a split parent when any obligation below it is,
    whatever its own milestones say (``queries.overdue_sql``)."""
    return set(
        session.exec(
            select(Obligation.id).where(overdue_clause(as_of, session.get_bind().dialect.name))
        ).all()
    )


def split_parents(*, session: Session, candidates: Iterable[int]) -> set[int]:
    """Those of ``candidates`` that ``duban split`` decomposed."""
    found: set[int] = set()
    ids = sorted(candidates)
    for start in range(0, len(ids), _CHUNK):
        found.update(
            i
            for i, attrs in session.exec(
                select(Obligation.id, Obligation.attrs).where(
                    Obligation.id.in_(ids[start : start + _CHUNK])
                )
            ).all()
            if (attrs or {}).get("split")
        )
    return found
