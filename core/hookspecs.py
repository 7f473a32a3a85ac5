"""Every hook a duban plugin can implement. Each docstring is that hook's reference.

Plugins implement hooks with ``@hookimpl`` from ``duban.core.api``. Registration hooks
receive a ``register`` callable: call it once per thing you contribute; the host records
which plugin contributed it. A hook that raises is reported by ``duban plugins`` and
skipped; the other plugins still run.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("duban")
hookimpl = pluggy.HookimplMarker("duban")


@hookspec
def duban_register_indicators(register: Any) -> None:
    """Register indicators: ``register(Indicator(key=..., name=..., name_en=..., unit=...,
    direction=..., aggregation=..., frequency=...))``. Keys are ``<plugin>.<name>``; an
    indicator declares how it aggregates from sub-regions (``rate`` from summed numerators
    and denominators, ``sum``, ``worst``, ``mean``, ``latest``)."""


@hookspec
def duban_register_escalation_rules(register: Any) -> None:
    """Register escalation rules: ``register(EscalationRule(key=..., name=..., name_en=...,
    evaluate=fn, defaults={...}))``. ``evaluate(ctx)`` yields ``Finding`` objects for the
    conditions that hold as of ``ctx.as_of``; the sweep opens, raises and resolves
    escalations from them. ``defaults`` are thresholds overridable in ``duban.toml`` under
    ``[rules."<key>"]``."""


@hookspec
def duban_register_site_kinds(register: Any) -> None:
    """Register kinds of monitored places: ``register(SiteKind(key=..., name=..., name_en=...,
    attrs=(...)))``. Sites of that kind carry those attributes."""


@hookspec
def duban_register_importers(register: Any) -> None:
    """Register file importers for ``duban import KIND FILE``: ``register(Importer(key=...,
    name=..., name_en=..., extensions=(".csv", ".xlsx"), run=fn))``. ``run(session=, path=,
    dry_run=)`` must be all-or-nothing: raise ``UserError`` naming row and column for a bad
    row; the caller then rolls everything back."""


@hookspec
def duban_register_notifiers(register: Any) -> None:
    """Register delivery channels: ``register(Notifier(key=..., name=..., name_en=...,
    send=fn))``. ``send(message, owner)`` delivers one ``Message`` or raises; failures are
    recorded and retried with backoff."""


@hookspec
def duban_register_labels(register: Any) -> None:
    """Name the codes you bring, in both languages: ``register(Label(kind="domain",
    key="tailings", name="尾矿库", name_en="Tailings ponds"))`` for the domain your obligations
    carry, ``register(Label(kind="action", key="import.tailings", name=..., name_en=...))`` for
    each audit action you record. Lists, filters and histories show these names; a code
    nobody names is shown as it is."""


@hookspec
def duban_register_commands(cli: Any) -> None:
    """Add subcommands to the ``duban`` command line. ``cli`` is the root ``click.Group``;
    call ``cli.add_command(...)`` or decorate with ``@cli.command()`` / ``@cli.group()``.
    Import heavy modules inside the command functions, not at module level."""


@hookspec(firstresult=True)
def duban_evaluate_target(target: Any, measurements: Any, as_of: Any, db: Any) -> Any:
    """Evaluate one target yourself instead of the default straight-path method. Return an
    ``Evaluation`` for targets whose indicator you own, else ``None``. ``target`` has the
    ``Target`` columns as attributes; ``measurements`` are the target scope's readings up to
    ``as_of`` (a date), oldest first; ``db`` is an ``api.Lean`` over the database read, for
    reading more with plain SQL (it may run on the bare driver, without the ORM). The first
    plugin that returns a value wins."""


@hookspec(firstresult=True)
def duban_reminder_offsets(obligation: Any) -> Any:
    """Return the reminder policy for ``obligation`` as a dict ``{"lead": [30, 7, 1, 0],
    "participant": [7], "overdue_every": 7}`` (days before the due date; 0 is the due day),
    or ``None`` to keep the configured default. The first non-None answer wins."""


@hookspec
def duban_dashboard_panels(session: Any, as_of: Any) -> Any:
    """Return a ``Panel`` (or a list of them) summarising your domain as of ``as_of`` for the
    dashboard: a title in both languages and rows of ``(label, value)`` figures, each
    optionally with a ``filter`` string that opens the matching obligations."""


@hookspec
def duban_plan_loaded(session: Any, plan: Any) -> None:
    """Called in the same transaction after a plan is loaded (``duban init``, ``duban import
    plan``). Attach your domain's sites, default targets or settings to the plan's
    obligations here."""
