"""Administrative regions (GB/T 2260) and their tree."""

from __future__ import annotations

from sqlmodel import Session, or_, select

from .. import audit, names
from ..controls import check_text
from ..errors import UserError
from ..i18n import t
from ..models import Region, RegionLevel
from .base import snapshot


def resolve_region(*, session: Session, ref: str, what: str = "--region") -> Region:
    """A region by GB/T 2260 code, id, exact name, or a name without its suffix (长沙 = 长沙市)."""
    ref = ref.strip()
    if not ref:
        raise UserError(t("{what}: empty region", what=what))
    found = session.exec(
        select(Region).where(or_(Region.code == ref, Region.name == ref, Region.name_en == ref))
    ).first()
    if found is None and ref.isdigit() and len(ref) < 6:
        found = session.get(Region, int(ref))
    if found is None:
        found = _by_short_name(session, ref, what)
    if found is None:
        known = session.exec(select(Region.name)).all()
        raise names.not_found(t("{what}: unknown region {ref!r}", what=what, ref=ref), ref, known)
    return found


_LEVEL_RANK = {
    RegionLevel.province: 0,
    RegionLevel.city: 1,
    RegionLevel.county: 2,
    RegionLevel.zone: 3,
}


def _by_short_name(session: Session, ref: str, what: str) -> Region | None:
    """长沙 -> 长沙市 rather than 长沙县: the highest level wins; a tie is ambiguous."""
    candidates = session.exec(select(Region).where(Region.name.startswith(ref))).all()
    if not candidates:
        return None
    best = min(_LEVEL_RANK.get(r.level, 9) for r in candidates)
    top = [r for r in candidates if _LEVEL_RANK.get(r.level, 9) == best]
    if len(top) > 1:
        raise UserError(
            t(
                "{what}: {ref!r} could be {names}; be more precise",
                what=what,
                ref=ref,
                names=", ".join(r.name for r in top[:5]),
            )
        )
    return top[0]


def add_region(
    *,
    session: Session,
    code: str,
    name: str,
    level: str,
    parent: Region | None = None,
    name_en: str | None = None,
    audited: bool = True,
) -> Region:
    check_text(code, "code", single_line=True)
    check_text(name, "name", single_line=True)
    check_text(name_en, "name_en", single_line=True)
    if level not in RegionLevel.__members__:
        raise UserError(t("region {name}: unknown level {level!r}", name=name, level=level))
    path = f"{parent.path}/{code}" if parent else code
    region = Region(
        code=code,
        name=name,
        name_en=name_en,
        level=level,
        parent_id=parent.id if parent else None,
        path=path,
    )
    session.add(region)
    session.flush()
    if audited:
        audit.record(session, "region.add", "region", region.id, after=snapshot(region))
    return region


def subtree_ids(*, session: Session, region: Region) -> list[int]:
    """The region and everything below it."""
    return list(
        session.exec(
            select(Region.id).where(
                or_(Region.id == region.id, Region.path.startswith(region.path + "/"))
            )
        ).all()
    )


def government_name(region: Region) -> str:
    """The people's government (or a zone's administrative committee) of a region."""
    if region.level == RegionLevel.zone:
        return region.name if region.name.endswith("管理委员会") else f"{region.name}管理委员会"
    return f"{region.name}人民政府"
