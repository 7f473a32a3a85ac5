"""Text helpers shared by the screens: labels for states and ladder levels, and cell-width
ellipsis that never cuts a wide (CJK) character in half. No textual import here."""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size

from duban.core.controls import neutralise
from duban.core.labels import (  # noqa: F401 (the screens label through here)
    labels_to_keys,
    level_label,
    light_label,
    role_label,
    state_label,
    status_label,
)
from duban.core.vocabulary import LEVEL_ORDER, Level

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
LIGHT_STYLES = {"green": "green", "yellow": "yellow", "red": "bold red"}


def light_style(light: str | None) -> str:
    return LIGHT_STYLES.get(light or "", "")


def level_style(level: str | None) -> str:
    return LEVEL_STYLES.get(level or "", "")


def level_rank(level: str | None) -> int:
    return LEVEL_ORDER.get(level, -1) if level else -1  # type: ignore[call-overload]


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
