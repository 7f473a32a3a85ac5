"""Text helpers shared by the screens: labels for states and ladder levels, and cell-width
ellipsis that never cuts a wide (CJK) character in half. No textual import here."""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size

from duban.core.controls import neutralise
from duban.core.i18n import t
from duban.core.vocabulary import LEVEL_ORDER, Level, State

ELLIPSIS = "…"

# The ladder's colours (Rich styles). Never used alone: a text label always goes with them.
LEVEL_STYLES: dict[str, str] = {
    Level.remind: "dim",
    Level.supervise: "yellow",
    Level.list: "#ff8700",
    Level.summon: "red",
    Level.freeze: "magenta",
    Level.refer: "bold red",
}

_LEVEL_LABELS = {
    Level.remind: "Reminder",
    Level.supervise: "Supervision",
    Level.list: "Listed supervision",
    Level.summon: "Summons",
    Level.freeze: "Approval freeze",
    Level.refer: "Referral",
}

_STATE_LABELS = {
    State.open: "Not started",
    State.in_progress: "In progress",
    State.submitted: "Submitted",
    State.closed: "Closed",
    State.cancelled: "Cancelled",
}

_ROLE_LABELS = {"lead": "Lead", "participant": "Participant", "implementer": "Implementer"}

_STATUS_LABELS = {
    "met": "Met",
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "missed": "Missed",
    "no_data": "No data",
    "stale": "Stale",
}

STATUS_STYLES = {
    "met": "green",
    "on_track": "green",
    "at_risk": "yellow",
    "off_track": "red",
    "missed": "bold red",
    "no_data": "dim",
    "stale": "dim",
}


# Traffic lights (红黄绿灯), as the list's column and the dashboard's doors show them.
_LIGHT_LABELS = {"green": "green", "yellow": "yellow", "red": "red"}
LIGHT_STYLES = {"green": "green", "yellow": "yellow", "red": "bold red"}


def light_label(light: str | None) -> str:
    return t(_LIGHT_LABELS[light]) if light in _LIGHT_LABELS else ""


def light_style(light: str | None) -> str:
    return LIGHT_STYLES.get(light or "", "")


def level_label(level: str | None) -> str:
    return t(_LEVEL_LABELS[level]) if level in _LEVEL_LABELS else (level or "")


def level_style(level: str | None) -> str:
    return LEVEL_STYLES.get(level or "", "")


def level_rank(level: str | None) -> int:
    return LEVEL_ORDER.get(level, -1) if level else -1  # type: ignore[call-overload]


def state_label(state: str | None) -> str:
    return t(_STATE_LABELS[state]) if state in _STATE_LABELS else (state or "")


def role_label(role: str) -> str:
    return t(_ROLE_LABELS[role]) if role in _ROLE_LABELS else role


def status_label(status: str | None) -> str:
    return t(_STATUS_LABELS[status]) if status in _STATUS_LABELS else (status or "")


def labels_to_keys(kind: str) -> dict[str, str]:
    """Every spelling a person may type for a state or level (key, English, Chinese) -> key."""
    table = {
        "state": _STATE_LABELS,
        "level": _LEVEL_LABELS,
        "role": _ROLE_LABELS,
        "light": _LIGHT_LABELS,
    }[kind]
    from duban.core.i18n import catalog

    found: dict[str, str] = {}
    for key, english in table.items():
        for spelling in (str(key), english, catalog().get(english, english)):
            found[spelling.casefold()] = str(key)
    return found


def ellipsize(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in "…" when cut; wide characters are
    kept whole (a 2-cell character that does not fit is dropped, never halved)."""
    if width <= 0:
        return ""
    text = neutralise(text)
    if cell_len(text) <= width:
        return text
    budget = width - 1  # room for the ellipsis
    out: list[str] = []
    used = 0
    for char in text:
        size = get_character_cell_size(char)
        if used + size > budget:
            break
        out.append(char)
        used += size
    return "".join(out) + ELLIPSIS


def fit(text: str, width: int) -> str:
    """``text`` ellipsised and padded with spaces to exactly ``width`` cells."""
    cut = ellipsize(text, width)
    return cut + " " * (width - cell_len(cut))


# Messages looked up with a variable (t(role), t(status), ...): listed so the catalog test
# finds them.
LOOKED_UP = (
    "coordinator",
    "member",
    "viewer",  # user roles
    "code",
    "due",
    "title",
    "state",
    "level",
    "id",  # sort keys
    "ok",
    "failed",
    "disabled",  # plugin status
    "higher",
    "lower",
    "class",  # indicator direction
    "daily",
    "monthly",
    "quarterly",
    "yearly",  # reporting frequency
    "verified",
    "rejected",  # close-out decisions
)
