"""click's own messages in the CLI's language: usage errors ("No such option", "Missing
argument", "Invalid value for …"), prompts and the parts of the help click writes.

click asks ``gettext`` for each message through the ``_`` and ``ngettext`` its modules
import; ``install`` points those at the project's catalog (core/locale/zh/click.toml), read
when the message is made, so in the language ``--lang`` or the locale chose. The names of
the number types go into "{value!r} is not a valid {number_type}." as they are, and the
version line is read when the option is declared: they translate themselves when filled in.
"""

from __future__ import annotations

from importlib import import_module

from click import types

from ..i18n import t

# Every click module that imports gettext's ``_`` (tests check the catalog against them) but
# _termui_impl, which only a progress bar's or an editor's call loads (importing it would cost
# every command's start; its progress bar shows no words, an ETA beyond a day aside).
MODULES = tuple(
    import_module(f"click.{name}")
    for name in (
        "core",
        "decorators",
        "exceptions",
        "formatting",
        "parser",
        "shell_completion",
        "termui",
        "types",
        "utils",
    )
)


def gettext(message: str) -> str:
    return t(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return t(singular if n == 1 else plural)


class _Text(str):
    """A message or name that takes the current language when it is filled in: click fills
    some in long after it read them (a type's name, the version line)."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return format(t(str(self)), spec)

    def __mod__(self, values: object) -> str:
        return t(str(self)) % values


# ``--version``'s line, which click would translate when the option is declared.
VERSION = _Text("%(prog)s, version %(version)s")


def install() -> None:
    for module in MODULES:
        module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    for kind in (types.IntParamType, types.IntRange, types.FloatParamType, types.FloatRange):
        kind.name = _Text(kind.name)
