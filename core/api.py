"""The public API for duban plugins: import everything a plugin uses from here.

    from duban.core.api import hookimpl, Indicator, EscalationRule, Finding

Names listed in ``__all__`` are stable within a major ``API_VERSION``. A plugin may declare
``DUBAN_API = (1, 0)`` at module level: duban refuses to load it (and says why in
``duban plugins``) when it cannot honour that version. Heavy names (models, services) are
imported on first use, so importing this module keeps start-up lean.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .clock import LOCAL_TZ, Clock, FixedClock, end_of_day, parse_date, to_local_date
from .config import reminder_policy, rule_settings, section
from .errors import Conflict, NotFound, PermissionDenied, UserError
from .hookspecs import hookimpl
from .i18n import add_catalog, language, pick, t, t_zh
from .plugins import API_VERSION, get_host
from .registry import (
    STATUSES,
    EscalationRule,
    Evaluation,
    Finding,
    Importer,
    Indicator,
    Message,
    Notifier,
    Panel,
    PanelRow,
    RuleContext,
    SiteKind,
    SweepContext,
)

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
    "parse_period": "dates:period",
    "resolve_site": "services.measurements",
    "evaluate": "services.evaluation",
    "installed_indicators": "services.measurements:indicators",
    "add_target": "services.targets",
    "new_uid": "services.obligations",
    "actor": "services.base",
    "snapshot": "services.base",
    # Bulk writes and look-ups for importers and rules (the caller checks the role and audits).
    "region_reading": "services.bulk",
    "site_reading": "services.bulk",
    "percent": "services.bulk",
    "upsert_readings": "services.bulk",
    "upsert_sites": "services.bulk",
    "add_missing_targets": "services.bulk",
    "import_region_readings": "services.bulk",
    "Regions": "services.lookups",
    "AddressBook": "services.lookups",
    "obligation_for": "services.lookups",
    # Import files: reading CSV/XLSX, checking cells, reporting every bad row (all-or-nothing).
    "Table": "tables",
    "Column": "tables",
    "Row": "tables",
    "BadCell": "tables",
    "Problems": "tables",
    "Sheet": "tables",
    "read_table": "tables",
    "cell_text": "tables",
    "norm_header": "tables",
    "file_sha256": "tables",
    # Dates as offices write them (date cells, Excel serial numbers, 2024年6月底前 …).
    "parse_day": "dates",
    "parse_moment": "dates",
    "parse_deadline": "dates",
    # Escalation rules: bilingual reasons, checked settings.
    "both": "rules",
    "config_level": "rules",
    "config_count": "rules",
    "config_number": "rulekit",
    "config_date": "rulekit",
    # Hook implementations that import the plugin's code when they first run.
    "lazy": "hooks",
    "register_all": "hooks",
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
    # What a read as of a date sees: what was recorded by this instant (core/visibility.py).
    "seen_at": "visibility",
    "states_then": "visibility",
}

__all__ = [
    "API_VERSION",
    "LOCAL_TZ",
    "STATUSES",
    "Clock",
    "Conflict",
    "EscalationRule",
    "Evaluation",
    "Finding",
    "FixedClock",
    "Importer",
    "Indicator",
    "Message",
    "NotFound",
    "Notifier",
    "Panel",
    "PanelRow",
    "PermissionDenied",
    "RuleContext",
    "SweepContext",
    "SiteKind",
    "UserError",
    "add_catalog",
    "end_of_day",
    "get_host",
    "hookimpl",
    "language",
    "parse_date",
    "pick",
    "reminder_policy",
    "rule_settings",
    "section",
    "t",
    "t_zh",
    "to_local_date",
    *_LAZY,
]


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
