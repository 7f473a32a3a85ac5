"""duban's themes (the command palette's "Change theme" lists them with Textual's own)."""

from __future__ import annotations

from textual.theme import Theme

THEMES = (
    Theme(
        name="duban-dark",
        primary="#c9302c",
        secondary="#d4a017",
        accent="#4f9dde",
        foreground="#e6e1d8",
        background="#17181b",
        surface="#202226",
        panel="#2a2c31",
        success="#5faf5f",
        warning="#d7af00",
        error="#e05252",
        dark=True,
    ),
    Theme(
        name="duban-light",
        primary="#a4161a",
        secondary="#9c6b00",
        accent="#1d5fa0",
        foreground="#1f1f1f",
        background="#f7f4ee",
        surface="#ffffff",
        panel="#ebe6dc",
        success="#2e7d32",
        warning="#9c6b00",
        error="#b3261e",
        dark=False,
    ),
)
