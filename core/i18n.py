"""Chinese and English for everything a person reads.

Messages are written in English in the code (``t("Unknown owner: {name}")``); the Chinese
catalog is a set of TOML files ``locale/zh/*.toml`` in each package that registers one
(``"Unknown owner: {name}" = "未知单位：{name}"``). A test checks that every message has
its translation.
"""

from __future__ import annotations

import locale
import os
import tomllib
from importlib import resources

LANGUAGES = ("zh", "en")
_packages: list[str] = ["duban.core"]
_catalog: dict[str, str] | None = None
_language: str | None = None


def default_language() -> str:
    """``DUBAN_LANG`` if set, else the locale's language (Chinese for zh_*), else English."""
    env = os.environ.get("DUBAN_LANG", "").strip().lower()
    if env:
        return "zh" if env.startswith("zh") else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    loc = locale.getlocale()[0] or ""
    return "zh" if loc.lower().startswith("zh") else "en"


def set_language(lang: str | None) -> None:
    global _language
    _language = lang if lang in LANGUAGES else default_language()


def language() -> str:
    if _language is None:
        set_language(None)
    return _language  # type: ignore[return-value]


def add_catalog(package: str) -> None:
    """Register ``package``'s ``locale/zh/*.toml`` (plugins and the TUI call this on import).
    A catalog already merged takes in the new package's files alone."""
    global _catalog
    if package not in _packages:
        _packages.append(package)
        if _catalog is not None:
            _catalog = {**_catalog, **_read(package)}


def _read(package: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    folder = resources.files(package) / "locale" / "zh"
    if folder.is_dir():
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".toml"):
                merged.update(tomllib.loads(entry.read_text(encoding="utf-8")))
    return merged


def catalog() -> dict[str, str]:
    """The merged Chinese catalog of every registered package (a later one's text wins)."""
    global _catalog
    if _catalog is None:
        merged: dict[str, str] = {}
        for package in _packages:
            merged.update(_read(package))
        _catalog = merged
    return _catalog


def t(msgid: str, /, **values: object) -> str:
    """Translate ``msgid`` into the current language and fill in ``values``."""
    text = catalog().get(msgid, msgid) if language() == "zh" else msgid
    return text.format(**values) if values else text


def t_zh(msgid: str, /, **values: object) -> str:
    """The Chinese text of ``msgid`` whatever the current language (for stored bilingual data)."""
    text = catalog().get(msgid, msgid)
    return text.format(**values) if values else text


def pick(zh: str | None, en: str | None) -> str:
    """Choose between a record's Chinese and English text (falling back to whichever exists)."""
    if language() == "en":
        return en or zh or ""
    return zh or en or ""
