"""Indicators as readings use them: the installed ones, and checking a reading's number against
its indicator (a finite number, within the bounds, agreeing with its numerator and denominator).
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from ...contributions import Indicator
from ...errors import UserError
from ...i18n import t
from ...readings import rate_scale


def indicators() -> dict[str, Indicator]:
    from ...plugins import get_host

    return get_host().indicators()


def get_indicator(key: str, *, what: str = "--indicator") -> Indicator:
    """A registered indicator, or a UserError suggesting close keys."""
    key = key.strip()
    known = indicators()
    if key in known:
        return known[key]
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    hint = (
        t("; did you mean {keys}?", keys=", ".join(close))
        if close
        else t("; `duban plugins` lists what is installed")
    )
    raise UserError(t("{what}: unknown indicator {key!r}", what=what, key=key) + hint)


def parse_number(text: Any, *, what: str) -> float:
    """A finite number; a trailing % is allowed (95.5%)."""
    if isinstance(text, bool):
        raise UserError(t("{what}: not a number: {value!r}", what=what, value=text))
    if isinstance(text, int | float):
        value = float(text)
    else:
        raw = str(text).strip().removesuffix("%").strip()
        try:
            value = float(raw)
        except ValueError:
            raise UserError(
                t("{what}: not a number: {value!r}", what=what, value=str(text))
            ) from None
    if not math.isfinite(value):
        raise UserError(t("{what}: not a finite number: {value!r}", what=what, value=str(text)))
    return value


def check_bounds(value: float, indicator: Indicator, *, what: str = "value") -> float:
    """``value`` if it lies within the indicator's bounds (a percentage in 0-100, ...)."""
    low, high = indicator.bounds
    if (low is not None and value < low) or (high is not None and value > high):
        raise UserError(
            t(
                "{what}: {value:g} is outside {low}..{high} for {indicator}",
                what=what,
                value=value,
                low="" if low is None else f"{low:g}",
                high="" if high is None else f"{high:g}",
                indicator=indicator.key,
            )
        )
    return value


def check_ratio(
    value: float | None, numerator: float | None, denominator: float | None, indicator: Indicator
) -> float:
    """The reading's value given its numerator and denominator (which must agree with it)."""
    if (numerator is None) != (denominator is None):
        raise UserError(t("numerator and denominator go together"))
    if numerator is None:
        if value is None:
            raise UserError(t("a value (or a numerator and a denominator) is required"))
        return check_bounds(value, indicator)
    if denominator <= 0 or numerator < 0:
        raise UserError(t("the denominator must be positive and the numerator not negative"))
    ratio = check_bounds(numerator / denominator * rate_scale(indicator), indicator)
    if value is None:
        return ratio
    # Published rates are rounded: accept half a unit of the last shown digit, or 0.5 %.
    if abs(value - ratio) > max(0.05, abs(ratio) * 0.005):
        raise UserError(
            t(
                "value {value:g} does not match numerator / denominator = {ratio:.4g}",
                value=value,
                ratio=ratio,
            )
        )
    return value
