"""duban's fixed vocabulary: regions' levels, roles, states and the escalation ladder.

Plain enums, importable without the ORM (the lean list path and the TUI's first screen use
them before SQLAlchemy has loaded); ``core.models`` re-exports them.
"""

from __future__ import annotations

from enum import StrEnum


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    zone = "zone"


class Role(StrEnum):
    """An owner's role in an obligation."""

    lead = "lead"  # 牵头
    participant = "participant"  # 参与
    implementer = "implementer"  # 负责落实


class UserRole(StrEnum):
    coordinator = "coordinator"
    member = "member"
    viewer = "viewer"


class State(StrEnum):
    """Obligation lifecycle; *overdue* is derived, never stored."""

    open = "open"
    in_progress = "in_progress"
    submitted = "submitted"  # 申请销号
    closed = "closed"  # 销号
    cancelled = "cancelled"


class Level(StrEnum):
    """The escalation ladder, in order."""

    remind = "remind"  # 提醒
    supervise = "supervise"  # 督办
    list = "list"  # 挂牌督办
    summon = "summon"  # 约谈
    freeze = "freeze"  # 区域限批
    refer = "refer"  # 移交问责


LEVEL_ORDER = {level: rank for rank, level in enumerate(Level)}
