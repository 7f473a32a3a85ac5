"""``duban record``, ``duban import measurements``, ``duban target add`` and ``duban status``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..clock import parse_date
from ..i18n import pick, t
from ..labels import goal_text, scope_label
from .context import Env, pass_env
from .output import emit, emit_one, format_option, listing_options, sheet_option

PROGRESS_FROM = 10_000  # rows; smaller files import without a progress bar


@click.command()
@click.argument("indicator")
@click.argument("value")
@click.option("--region", metavar="R", help="The region observed (code or name).")
@click.option("--site", metavar="S", help="The site observed (key or name).")
@click.option(
    "--at",
    "at",
    required=True,
    metavar="DATE|PERIOD",
    help="Observed period: 2024, 2024-Q2, 2024-06, 2024-06-15 or START/END.",
)
@click.option(
    "--source", metavar="S", help="Where the figure comes from (bulletin, monitoring station)."
)
@click.option("--evidence", metavar="PATH|URL", help="A file (fingerprinted) or an http(s) URL.")
@click.option("--note", metavar="N", help="A remark.")
@click.option("--numerator", metavar="X", help="For a rate: the count it is made of.")
@click.option("--denominator", metavar="Y", help="For a rate: the base it is divided by.")
@pass_env
def record(
    env: Env,
    indicator: str,
    value: str,
    region: str | None,
    site: str | None,
    at: str,
    source: str | None,
    evidence: str | None,
    note: str | None,
    numerator: str | None,
    denominator: str | None,
) -> None:
    """Record a reading of INDICATOR for a region or site; prints its id."""
    from ..services import measurements

    number = measurements.parse_number(value, what="VALUE")
    num = (
        measurements.parse_number(numerator, what="--numerator") if numerator is not None else None
    )
    den = (
        measurements.parse_number(denominator, what="--denominator")
        if denominator is not None
        else None
    )
    start, end = measurements.parse_period(at, what="--at")
    measurements.get_indicator(indicator, what="INDICATOR")
    with env.session() as session:
        subject = measurements.resolve_subject(session=session, region=region, site=site)
        row = measurements.record(
            session=session,
            indicator=indicator,
            value=number,
            subject=subject.key,
            period_start=start,
            period_end=end,
            source=source,
            evidence=evidence,
            note=note,
            numerator=num,
            denominator=den,
        )
        click.echo(row.id)


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None]]:
    """A click progress bar on stderr, shown once a file turns out to be large."""
    state: dict[str, Any] = {"bar": None, "done": 0}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            if total < PROGRESS_FROM:
                return
            state["bar"] = click.progressbar(length=total, label=t("Importing"), file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["done"])
        state["done"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


@click.command("measurements")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@sheet_option
@format_option("table", "json")
@pass_env
def import_measurements_cmd(
    env: Env, path: Path, dry_run: bool, sheet: str | None, fmt: str
) -> None:
    """Import readings from a .csv or .xlsx file (see docs/measurements.md); all or nothing."""
    from ..services.measurements import import_measurements

    with _progress_bar() as progress, env.session(write=not dry_run) as session:
        summary = import_measurements(
            session=session, path=path, progress=progress, dry_run=dry_run, sheet=sheet
        )
    emit_one(summary, fmt)


@click.group()
def target() -> None:
    """Quantitative targets of obligations."""


_COMPARATOR_OPTIONS = ("gte", "lte", "eq", "decrease_pct", "increase_pct")
_FLAG_OPTIONS = ("trend_down", "trend_up", "eliminate")


@target.command("add")
@click.argument("obligation", metavar="OBLIGATION")
@click.option(
    "--indicator", required=True, metavar="KEY", help="Indicator key (`duban plugins` lists them)."
)
@click.option("--gte", metavar="VALUE", help="Met when the reading is at least VALUE.")
@click.option("--lte", metavar="VALUE", help="Met when the reading is at most VALUE.")
@click.option("--eq", metavar="VALUE", help="Met when the reading equals VALUE.")
@click.option("--decrease-pct", metavar="N", help="Met when the reading is N% below the baseline.")
@click.option("--increase-pct", metavar="N", help="Met when the reading is N% above the baseline.")
@click.option("--trend-down", is_flag=True, help="Met while the readings keep falling.")
@click.option("--trend-up", is_flag=True, help="Met while the readings keep rising.")
@click.option("--eliminate", is_flag=True, help="Met when the reading is 0.")
@click.option("--due", required=True, metavar="DATE", help="When the target must be met.")
@click.option("--region", metavar="R", help="Scope: a region (default: the obligation's region).")
@click.option("--site", metavar="S", help="Scope: a site.")
@click.option("--baseline", metavar="VALUE", help="Starting value (with --baseline-date).")
@click.option(
    "--baseline-date",
    metavar="DATE",
    help="Date of the baseline; alone, the reading covering that date is the baseline.",
)
@click.option(
    "--name", metavar="TEXT", help="How the plan words it (default: the indicator's name)."
)
@pass_env
def target_add(
    env: Env,
    obligation: str,
    indicator: str,
    due: str,
    region: str | None,
    site: str | None,
    baseline: str | None,
    baseline_date: str | None,
    name: str | None,
    **comparators: Any,
) -> None:
    """Add a target to OBLIGATION; prints its id."""
    from ..errors import UserError
    from ..services.measurements import parse_number
    from ..services.obligations import get_obligation
    from ..services.targets import add_target

    chosen = [k for k in _COMPARATOR_OPTIONS if comparators[k] is not None]
    chosen += [k for k in _FLAG_OPTIONS if comparators[k]]
    if len(chosen) != 1:
        raise UserError(
            t(
                "give exactly one of --gte, --lte, --eq, --decrease-pct, --increase-pct, "
                "--trend-down, --trend-up, --eliminate"
            )
        )
    comparator = chosen[0]
    option = "--" + comparator.replace("_", "-")
    value = (
        parse_number(comparators[comparator], what=option)
        if comparator in _COMPARATOR_OPTIONS
        else 0.0
        if comparator == "eliminate"
        else None
    )
    due_date = parse_date(due, what="--due")
    base = parse_number(baseline, what="--baseline") if baseline is not None else None
    base_date = parse_date(baseline_date, what="--baseline-date") if baseline_date else None
    with env.session() as session:
        ob = get_obligation(session=session, ref=obligation)
        row = add_target(
            session=session,
            obligation=ob,
            indicator=indicator,
            comparator=comparator,
            value=value,
            due=due_date,
            region=region,
            site=site,
            baseline_value=base,
            baseline_date=base_date,
            name=name,
        )
        click.echo(row.id)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.4g}"


@click.command()
@click.option("--obligation", metavar="ID", help="Only this obligation's targets.")
@listing_options()
@pass_env
def status(env: Env, obligation: str | None, fmt: str, output: Path | None) -> None:
    """Each target's status as of today (or --as-of), with the numbers behind it; as a
    workbook, with a chart of each off-track target's readings against its target line."""
    from ..names import obligation_id
    from ..target_status import status_rows

    with env.reading() as db:
        ob_id = obligation_id(db, obligation) if obligation else None
        rows = status_rows(db, as_of=env.today, obligation_id=ob_id)
    charts = []
    if fmt == "xlsx":  # the charts read targets and readings through the ORM
        from ..services.evaluation import off_track_charts

        with env.session(write=False) as session:
            charts = off_track_charts(session=session, as_of=env.today, rows=rows)
    if fmt == "json":
        emit(rows, [], fmt)
        return
    if fmt == "xlsx":
        emit(
            [
                {
                    **r,
                    "obligation": r["obligation_code"] or f"#{r['obligation']}",
                    "name": pick(r["name"], r["name_en"]) or r["indicator"],
                    "scope": (r["scope"] or {}).get("name"),
                    "status": t(r["status"]),
                    "value": r["value"],
                }
                for r in rows
            ],
            [
                ("target", "ID", "int"),
                ("obligation", t("Obligation")),
                ("name", t("Indicator")),
                ("scope", t("Scope")),
                ("comparator", t("Comparator")),
                ("value", t("Target"), "number"),
                ("unit", t("Unit")),
                ("due", t("Due"), "date"),
                ("status", t("Status")),
                ("latest_value", t("Latest"), "number"),
                ("latest_date", t("Latest date"), "date"),
                ("expected", t("Expected now"), "number"),
                ("forecast", t("Forecast at due"), "number"),
                ("detail", t("Detail")),
            ],
            fmt,
            output=output,
            title=t("Targets"),
            charts=charts,
        )
        return
    if fmt == "csv":
        rows = [
            {**r, "scope": (r["scope"] or {}).get("code") or (r["scope"] or {}).get("key")}
            for r in rows
        ]
        emit(
            rows,
            [
                (k, k)
                for k in (
                    "target",
                    "obligation",
                    "obligation_code",
                    "indicator",
                    "scope",
                    "comparator",
                    "value",
                    "unit",
                    "due",
                    "status",
                    "latest_value",
                    "latest_date",
                    "expected",
                    "forecast",
                    "detail",
                )
            ],
            fmt,
            output=output,
        )
        return
    table = [
        {
            "target": r["target"],
            "obligation": r["obligation_code"] or f"#{r['obligation']}",
            "indicator": pick(r["name"], r["name_en"]) or r["indicator"],
            "scope": scope_label(r["scope"]),
            "goal": f"{goal_text(r['comparator'], r['value'], r['unit'])} {r['due']}",
            "status": t(r["status"]),
            "latest": f"{_num(r['latest_value'])} ({r['latest_date']})" if r["latest_date"] else "",
            "expected": _num(r["expected"]),
            "forecast": _num(r["forecast"]),
        }
        for r in rows
    ]
    emit(
        table,
        [
            ("target", "ID"),
            ("obligation", t("Obligation")),
            ("indicator", t("Indicator")),
            ("scope", t("Scope")),
            ("goal", t("Target")),
            ("status", t("Status")),
            ("latest", t("Latest")),
            ("expected", t("Expected now")),
            ("forecast", t("Forecast at due")),
        ],
        fmt,
        max_width=28,
    )
