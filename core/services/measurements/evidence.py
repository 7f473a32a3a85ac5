"""Evidence: a local file (fingerprinted) or an http(s) URL backing a reading or an obligation."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlmodel import Session

from ... import audit
from ...controls import check_text
from ...errors import UserError
from ...i18n import t
from ...models import Evidence
from ..base import actor, now, snapshot

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?://)?")


def add_evidence(
    *,
    session: Session,
    ref: str,
    obligation_id: int | None = None,
    note: str | None = None,
    what: str = "--evidence",
) -> Evidence:
    """A local file (fingerprinted with sha256) or an http(s) URL, as an Evidence row."""
    check_text(note, "--note")
    ref = (check_text(ref, what, single_line=True) or "").strip()
    scheme = _SCHEME.match(ref)
    if scheme and len(scheme[1]) > 1:  # "C:\..." is a Windows drive, not a scheme
        if scheme[1].lower() not in ("http", "https") or not re.match(
            r"^https?://[^\s/]+", ref, re.I
        ):
            raise UserError(
                t("{what}: only http(s) URLs are accepted, not {value!r}", what=what, value=ref)
            )
        uri, digest = ref, None
    else:
        path = Path(ref).expanduser()
        if not path.is_file():
            raise UserError(t("{what}: no such file: {path}", what=what, path=ref))
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        uri, digest = str(path.resolve()), sha.hexdigest()
    evidence = Evidence(
        obligation_id=obligation_id,
        uri=uri,
        sha256=digest,
        note=note,
        added_by=actor(session),
        added_at=now(session),
    )
    session.add(evidence)
    session.flush()
    audit.record(session, "evidence.add", "evidence", evidence.id, after=snapshot(evidence))
    return evidence
