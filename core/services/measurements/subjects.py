"""What a reading is of: a subject, ``region:<code>`` or ``site:<key>``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, or_, select

from ...errors import NotFound, UserError
from ...i18n import t
from ...models import Site
from ..regions import resolve_region


@dataclass(frozen=True)
class Subject:
    key: str  # region:<code> | site:<key>
    region_id: int | None
    site_id: int | None
    name: str


def resolve_site(*, session: Session, ref: str, what: str = "--site") -> Site:
    """A site by key or exact name."""
    ref = ref.strip()
    found = session.exec(select(Site).where(or_(Site.key == ref, Site.name == ref))).first()
    if found is None:
        raise NotFound(t("{what}: unknown site {ref!r}", what=what, ref=ref))
    return found


def resolve_subject(
    *, session: Session, region: str | None = None, site: str | None = None
) -> Subject:
    """``--region`` or ``--site`` (exactly one) as a subject."""
    if bool(region) == bool(site):
        raise UserError(t("give exactly one of --region and --site"))
    if site:
        row = resolve_site(session=session, ref=site)
        return Subject(f"site:{row.key}", row.region_id, row.id, row.name)
    reg = resolve_region(session=session, ref=region or "")
    return Subject(f"region:{reg.code}", reg.id, None, reg.name)


def subject_from_key(*, session: Session, subject: str) -> Subject:
    kind, _, key = subject.partition(":")
    if kind == "region":
        return resolve_subject(session=session, region=key)
    if kind == "site":
        return resolve_subject(session=session, site=key)
    raise UserError(t("subject must be region:<code> or site:<key>, not {value!r}", value=subject))
