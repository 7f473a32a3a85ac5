"""The public API for duban plugins: import everything a plugin uses from here.

    from duban.core.api import hookimpl, Indicator, EscalationRule, Finding

Names listed in ``__all__`` are stable within a major ``API_VERSION``. A plugin may declare
``DUBAN_API = (1, 0)`` at module level: duban refuses to load it (and says why in
``duban plugins``) when it cannot honour that version. Heavy names (models, services) are
imported on first use, so importing this module keeps start-up lean.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .clock import LOCAL_TZ, Clock, FixedClock, end_of_day, parse_date, to_local_date
from .contributions import (
    STATUSES,
    EscalationRule,
    Evaluation,
    Finding,
    Importer,
    Indicator,
    Label,
    Message,
    Notifier,
    Panel,
    PanelRow,
    RuleContext,
    SiteKind,
    SweepContext,
)
from .errors import Conflict, NotFound, PermissionDenied, UserError
from .hookspecs import hookimpl
from .i18n import add_catalog, language, pick, t, t_zh
from .plugins import API_VERSION, get_host

if TYPE_CHECKING:
    # What checkers and editors see. At run time these names are imported on first use
    # (``__getattr__`` below, from the modules ``_LAZY`` names), so that importing this module
    # loads neither the ORM nor the services; tests/core/test_api_contract.py keeps the two
    # lists the same.
    from .audit import record as audit_record
    from .cli.context import Env, pass_env
    from .cli.output import (
        document_options,
        emit,
        emit_one,
        format_option,
        listing_options,
        sheet_option,
    )
    from .clock import parse_month
    from .columns import day as db_date
    from .columns import document as db_json
    from .controls import control_problem
    from .dates import (
        add_months,
        last_of_month,
        month_end,
        month_ends,
        month_start,
        parse_day,
        parse_deadline,
        parse_moment,
    )
    from .dates import period as parse_period
    from .escalation_rules import both
    from .gongwen import OfficialDocument
    from .hooks import labels_hook, lazy, panel_hook, plan_loaded_hook, register_all
    from .models import (
        LEVEL_ORDER,
        Assignment,
        Escalation,
        Evidence,
        Level,
        Measurement,
        Milestone,
        Obligation,
        Owner,
        Plan,
        Region,
        RegionLevel,
        Role,
        Site,
        State,
        Submission,
        Target,
    )
    from .queries import Lean
    from .readings import readings_source
    from .rule_settings import config_count, config_date, config_level, config_number
    from .services.base import actor, now, require_coordinator, require_writer, snapshot, today
    from .services.evaluation import evaluate
    from .services.lookups import AddressBook, Regions, obligation_for
    from .services.measurements import indicators as installed_indicators
    from .services.measurements import readings_as_of, resolve_site, series
    from .services.measurements import record as record_measurement
    from .services.obligations import add_obligation, get_obligation, new_uid, set_state
    from .services.owners import add_owner, find_owner, resolve_owner
    from .services.plugin_writes import (
        add_missing_targets,
        import_region_readings,
        percent,
        region_reading,
        site_reading,
        upsert_readings,
        upsert_sites,
    )
    from .services.regions import government_name, resolve_region, subtree_ids
    from .services.targets import add_target
    from .settings import Settings, get_settings
    from .spreadsheet import Chart, Field, Listing, write_xlsx
    from .spreadsheet_reader import (
        BadCell,
        Column,
        Problems,
        Row,
        Sheet,
        Table,
        cell_text,
        file_sha256,
        norm_header,
        read_table,
    )
    from .visibility import seen_at, state_sql, states_then

# The names imported on first use: name -> "module" (same attribute name) or "module:attribute".
_LAZY = {
    # Tables (SQLModel) and enums.
    "Obligation": "models",
    "Milestone": "models",
    "Target": "models",
    "Measurement": "models",
    "Site": "models",
    "Region": "models",
    "Owner": "models",
    "Assignment": "models",
    "Escalation": "models",
    "Evidence": "models",
    "Submission": "models",
    "Level": "models",
    "Role": "models",
    "State": "models",
    "RegionLevel": "models",
    "Plan": "models",
    "LEVEL_ORDER": "models",
    # Services: plain functions taking session= as a keyword.
    "audit_record": "audit:record",
    "now": "services.base",
    "today": "services.base",
    "require_coordinator": "services.base",
    "require_writer": "services.base",
    "resolve_owner": "services.owners",
    "find_owner": "services.owners",
    "add_owner": "services.owners",
    "resolve_region": "services.regions",
    "control_problem": "controls",
    "subtree_ids": "services.regions",
    "government_name": "services.regions",
    "get_obligation": "services.obligations",
    "add_obligation": "services.obligations",
    "set_state": "services.obligations",
    "record_measurement": "services.measurements:record",
    "series": "services.measurements",
    "readings_as_of": "services.measurements",
    "parse_period": "dates:period",
    "resolve_site": "services.measurements",
    "evaluate": "services.evaluation",
    "installed_indicators": "services.measurements:indicators",
    "add_target": "services.targets",
    "new_uid": "services.obligations",
    "actor": "services.base",
    "snapshot": "services.base",
    # Bulk writes and look-ups for importers and rules (the caller checks the role and audits).
    "region_reading": "services.plugin_writes",
    "site_reading": "services.plugin_writes",
    "percent": "services.plugin_writes",
    "upsert_readings": "services.plugin_writes",
    "upsert_sites": "services.plugin_writes",
    "add_missing_targets": "services.plugin_writes",
    "import_region_readings": "services.plugin_writes",
    "Regions": "services.lookups",
    "AddressBook": "services.lookups",
    "obligation_for": "services.lookups",
    # Import files: reading CSV/XLSX, checking cells, reporting every bad row (all-or-nothing).
    "Table": "spreadsheet_reader",
    "Column": "spreadsheet_reader",
    "Row": "spreadsheet_reader",
    "BadCell": "spreadsheet_reader",
    "Problems": "spreadsheet_reader",
    "Sheet": "spreadsheet_reader",
    "read_table": "spreadsheet_reader",
    "cell_text": "spreadsheet_reader",
    "norm_header": "spreadsheet_reader",
    "file_sha256": "spreadsheet_reader",
    # Dates as offices write them (date cells, Excel serial numbers, 2024年6月底前 …).
    "parse_day": "dates",
    "add_months": "dates",
    "last_of_month": "dates",
    "month_end": "dates",
    "month_ends": "dates",
    "month_start": "dates",
    "parse_moment": "dates",
    "parse_deadline": "dates",
    # Escalation rules: bilingual reasons, checked settings.
    "both": "escalation_rules",
    "config_level": "rule_settings",
    "config_count": "rule_settings",
    "config_number": "rule_settings",
    "config_date": "rule_settings",
    # Hook implementations that import the plugin's code when they first run.
    "lazy": "hooks",
    "register_all": "hooks",
    "labels_hook": "hooks",
    "panel_hook": "hooks",
    "plan_loaded_hook": "hooks",
    # Commands a plugin adds (duban_register_commands).
    "Env": "cli.context",
    "pass_env": "cli.context",
    "emit": "cli.output",
    "emit_one": "cli.output",
    "format_option": "cli.output",
    "sheet_option": "cli.output",
    "listing_options": "cli.output",
    "document_options": "cli.output",
    # Writing spreadsheets, CSV and official documents (公文, GB/T 9704-2012).
    "Field": "spreadsheet",
    "Listing": "spreadsheet",
    "Chart": "spreadsheet",
    "write_xlsx": "spreadsheet",
    "OfficialDocument": "gongwen",
    "parse_month": "clock",
    # duban.toml, read once: typed sections, a rule's thresholds, a plugin's own table.
    "Settings": "settings",
    "get_settings": "settings",
    # What a read as of a date sees: what was recorded by this instant (core/visibility.py).
    "seen_at": "visibility",
    "states_then": "visibility",
    "state_sql": "visibility",
    "readings_source": "readings",
    # Plain SQL through the bare driver (or a session's connection), and its column values.
    "Lean": "queries",
    "db_date": "columns:day",
    "db_json": "columns:document",
}

__all__ = [
    "API_VERSION",
    "LEVEL_ORDER",
    "LOCAL_TZ",
    "STATUSES",
    "AddressBook",
    "Assignment",
    "BadCell",
    "Chart",
    "Clock",
    "Column",
    "Conflict",
    "Env",
    "Escalation",
    "EscalationRule",
    "Evaluation",
    "Evidence",
    "Field",
    "Finding",
    "FixedClock",
    "Importer",
    "Indicator",
    "Label",
    "Lean",
    "Level",
    "Listing",
    "Measurement",
    "Message",
    "Milestone",
    "NotFound",
    "Notifier",
    "Obligation",
    "OfficialDocument",
    "Owner",
    "Panel",
    "PanelRow",
    "PermissionDenied",
    "Plan",
    "Problems",
    "Region",
    "RegionLevel",
    "Regions",
    "Role",
    "Row",
    "RuleContext",
    "Settings",
    "Sheet",
    "Site",
    "SiteKind",
    "State",
    "Submission",
    "SweepContext",
    "Table",
    "Target",
    "UserError",
    "actor",
    "add_catalog",
    "add_missing_targets",
    "add_months",
    "add_obligation",
    "add_owner",
    "add_target",
    "audit_record",
    "both",
    "cell_text",
    "config_count",
    "config_date",
    "config_level",
    "config_number",
    "control_problem",
    "db_date",
    "db_json",
    "document_options",
    "emit",
    "emit_one",
    "end_of_day",
    "evaluate",
    "file_sha256",
    "find_owner",
    "format_option",
    "get_host",
    "get_obligation",
    "get_settings",
    "government_name",
    "hookimpl",
    "import_region_readings",
    "installed_indicators",
    "labels_hook",
    "language",
    "last_of_month",
    "lazy",
    "listing_options",
    "month_end",
    "month_ends",
    "month_start",
    "new_uid",
    "norm_header",
    "now",
    "obligation_for",
    "panel_hook",
    "parse_date",
    "parse_day",
    "parse_deadline",
    "parse_moment",
    "parse_month",
    "parse_period",
    "pass_env",
    "percent",
    "pick",
    "plan_loaded_hook",
    "read_table",
    "readings_as_of",
    "readings_source",
    "record_measurement",
    "region_reading",
    "register_all",
    "reminder_policy",
    "require_coordinator",
    "require_writer",
    "resolve_owner",
    "resolve_region",
    "resolve_site",
    "rule_settings",
    "section",
    "seen_at",
    "series",
    "set_state",
    "sheet_option",
    "site_reading",
    "snapshot",
    "state_sql",
    "states_then",
    "subtree_ids",
    "t",
    "t_zh",
    "to_local_date",
    "today",
    "upsert_readings",
    "upsert_sites",
    "write_xlsx",
]


# Settings as API 1.0 offered them: shorthands for ``get_settings()``'s own methods.
def rule_settings(key: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``get_settings().rule(key, defaults)``: ``[rules."<key>"]`` over the rule's defaults."""
    from .settings import get_settings

    return get_settings().rule(key, defaults)


def section(name: str, defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``[name]`` over ``defaults``: ``get_settings().table(name)`` for a plugin's own table."""
    from .settings import get_settings

    return {**(defaults or {}), **get_settings().table(name)}


def reminder_policy(obligation: Any = None) -> dict[str, Any]:
    """``get_settings().reminder_policy(obligation)``."""
    from .settings import get_settings

    return get_settings().reminder_policy(obligation)


if not TYPE_CHECKING:  # checkers see the imports above, not an attribute hook returning Any

    def __getattr__(name: str) -> Any:
        target = _LAZY.get(name)
        if target is None:
            raise AttributeError(f"module 'duban.core.api' has no attribute {name!r}")
        module, _, attr = target.partition(":")
        value = getattr(import_module(f"duban.core.{module}"), attr or name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(__all__)
