"""Look-ups domain plugins make over and over, loaded once per import or rule run: regions by
any of their names, whom an escalation goes to, and which obligation a finding belongs to."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from ..models import Obligation, Region, RegionLevel, Target
from .escalations import Addressing


class Regions:
    """Every region by code, name, English name and unambiguous short name (长沙 = 长沙市)."""

    def __init__(self, session: Session) -> None:
        self.by_id = {r.id: r for r in session.exec(select(Region))}
        self._refs: dict[str, Region] = {}
        short: dict[str, list[Region]] = {}
        for r in self.by_id.values():
            for ref in (r.code, r.name, r.name_en):
                if ref:
                    self._refs.setdefault(ref, r)
            short.setdefault(re.sub(r"(省|市|县|区|自治州|自治县)$", "", r.name), []).append(r)
        for name, hits in short.items():
            if len(hits) == 1:
                self._refs.setdefault(name, hits[0])

    def get(self, ref: str) -> Region | None:
        return self._refs.get(ref.strip())

    def city_of(self, region: Region) -> Region | None:
        """The city (市州) containing a region, the region itself for a city."""
        for code in reversed(region.path.split("/")):
            hit = self._refs.get(code)
            if hit is not None and hit.level == RegionLevel.city:
                return hit
        return None

    def province(self) -> Region | None:
        return next((r for r in self.by_id.values() if r.level == RegionLevel.province), None)


class AddressBook:
    """Whom an escalation goes to, the way the sweep addresses core's own: a sub-region's
    people's government (else the lead owner), and for a summons the body above that."""

    def __init__(self, session: Session) -> None:
        self._addressing = Addressing.load(session)

    def government(self, region_id: int | None) -> int | None:
        """The owner id of a region's people's government (derived when regions load)."""
        return self._addressing.governments.get(region_id) if region_id is not None else None

    def address(
        self, level: str, *, region_id: int | None = None, lead: int | None = None
    ) -> int | None:
        return self._addressing.address(level, lead, region_id)


def obligation_for(session: Session, indicator: str, domain: str) -> int | None:
    """The obligation a plugin's finding belongs to: the one with a target on ``indicator``,
    else the first top-level task of the plugin's ``domain``."""
    found = session.exec(
        select(Target.obligation_id).where(Target.indicator == indicator).order_by(Target.id)
    ).first()
    if found is not None:
        return found
    return session.exec(
        select(Obligation.id)
        .where(Obligation.domain == domain, Obligation.parent_id.is_(None))
        .order_by(Obligation.plan_id, Obligation.seq)
    ).first()
