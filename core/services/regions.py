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
    from ..queries import Lean

    found = session.get(Region, names.region_id(Lean.of_session(session), ref, what=what))
    assert found is not None
    return found


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
