"""Ready-made hook implementations for a plugin's module, so that it stays cheap to import:
each names the code it runs as ``"package.module:name"``, imported when the hook first runs::

    duban_register_indicators = register_all("duban_tailings.indicators:INDICATORS")
    duban_register_escalation_rules = register_all("duban_tailings.rules:RULES")
    duban_dashboard_panels = panel_hook("duban_tailings.panels:panels")
    duban_plan_loaded = plan_loaded_hook("duban_tailings.targets:attach_defaults")
    duban_register_labels = labels_hook(
        ("tailings", "尾矿库", "Tailings ponds"),
        actions=[("import.tailings", "导入尾矿库台账", "Tailings pond register imported")],
    )

    register(Importer(key="tailings-ponds", ..., run=lazy("duban_tailings.imports:import_register")))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any

from .contributions import Label
from .hookspecs import hookimpl

Names = tuple[str, str, str]  # key, Chinese, English


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


def lazy(target: str) -> Callable[..., Any]:
    """A function that imports ``target`` on its first call and calls it with the same arguments
    (an importer's ``run``, say)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return _load(target)(*args, **kwargs)

    call.__name__ = call.__qualname__ = target.rpartition(":")[2]
    return call


def register_all(target: str) -> Callable[[Any], None]:
    """A ``duban_register_*`` hook registering every item of the sequence ``target``."""

    @hookimpl
    def register_items(register: Any) -> None:
        for item in _load(target):
            register(item)

    return register_items


def panel_hook(target: str) -> Callable[[Any, Any], Any]:
    """A ``duban_dashboard_panels`` hook: ``target(session, as_of)``, its panels or None."""

    @hookimpl
    def dashboard_panels(session: Any, as_of: Any) -> Any:
        return _load(target)(session, as_of) or None

    return dashboard_panels


def plan_loaded_hook(target: str) -> Callable[[Any, Any], None]:
    """A ``duban_plan_loaded`` hook: ``target(session=, plan=)`` in a savepoint, so that a
    failure undoes this plugin's additions and the plan still loads."""

    @hookimpl
    def plan_loaded(session: Any, plan: Any) -> None:
        with session.begin_nested():
            _load(target)(session=session, plan=plan)

    return plan_loaded


def labels_hook(
    domain: Names | None = None, *, actions: Iterable[Names] = ()
) -> Callable[[Any], None]:
    """A ``duban_register_labels`` hook naming a domain and audit actions, each given as
    ``(key, Chinese, English)``."""
    named = [Label("domain", *domain)] if domain else []
    named += [Label("action", *action) for action in actions]

    @hookimpl
    def register_labels(register: Any) -> None:
        for label in named:
            register(label)

    return register_labels
