"""``duban water ...``: classify readings, manage sections, recompute and show the rates."""

from __future__ import annotations

from pathlib import Path

import click

from duban.core.api import Env, UserError, emit, emit_one, format_option, pass_env, t


@click.group("water")
def water() -> None:
    """Water quality (GB 3838-2002): classification, monitoring sections, good-quality rates."""


@water.command("classify")
@click.argument("readings", nargs=-1, metavar="PARAM=VALUE...")
@click.option(
    "--lake", is_flag=True, help="Lake or reservoir limits (total phosphorus, total nitrogen)."
)
@format_option("table", "json")
def classify_cmd(readings: tuple[str, ...], lake: bool, fmt: str) -> None:
    """Classify one sample: `duban water classify pH=7.2 DO=6.5 NH3-N=0.8 总磷=0.12`."""
    from .gb3838 import InvalidReading, classify

    if not readings:
        raise UserError(t("give readings as PARAM=VALUE, e.g. NH3-N=0.8 总磷=0.12"))
    values: dict[str, float] = {}
    for item in readings:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(t("{item!r}: expected PARAM=VALUE", item=item))
        if _unknown(name):
            raise UserError(t("{name!r}: unknown GB 3838 parameter", name=name))
        try:
            value = float(raw)
        except ValueError:
            raise UserError(
                t("{item!r}: {value!r} is not a number", item=item, value=raw)
            ) from None
        if not 0 <= value < float("inf"):
            raise UserError(t("{item!r}: a concentration cannot be negative", item=item))
        values[name] = value
    try:
        found = classify(values, lake=lake)
    except InvalidReading:
        raise UserError(t("pH must be between 0 and 14")) from None
    except ValueError as exc:  # no assessed item, or one parameter twice
        raise UserError(t("cannot classify: {why}", why=exc)) from None
    result = {
        "class": found.water_class,
        "limiting": list(found.limiting),
        "per_parameter": dict(found.per_parameter),
    }
    if fmt == "json":
        emit_one(result, fmt)
        return
    click.echo(
        t(
            "Class {cls} (limiting: {params})",
            cls=found.water_class,
            params=", ".join(found.limiting),
        )
    )
    emit(
        [{"parameter": k, "class": v} for k, v in found.per_parameter.items()],
        [("parameter", t("Parameter")), ("class", t("Class"))],
        "table",
    )


def _unknown(name: str) -> bool:
    from .gb3838 import UnknownParameter, parameter

    try:
        parameter(name)
    except UnknownParameter:
        return name.strip().casefold() not in (
            "水温",
            "wt",
            "temp",
            "temperature",
            "water_temperature",
        )
    return False


@water.group("sections")
def sections() -> None:
    """Monitoring sections (断面): list them, import more."""


@sections.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@format_option("table", "json")
@pass_env
def sections_import(env: Env, path: Path, dry_run: bool, fmt: str) -> None:
    """Import sections from a CSV or Excel file (see docs/plugins/water.md for the columns)."""
    from .sections import import_sections

    if not path.is_file():
        raise UserError(t("{path}: no such file", path=path))
    with env.session(write=not dry_run) as session:
        summary = import_sections(session=session, path=path, dry_run=dry_run)
    emit_one(summary, fmt)


@sections.command("list")
@format_option()
@pass_env
def sections_list(env: Env, fmt: str) -> None:
    """List the monitoring sections."""
    from .sections import list_sections

    with env.session(write=False) as session:
        rows = list_sections(session=session)
    emit(
        rows,
        [
            ("key", t("Key")),
            ("code", t("Code")),
            ("name", t("Name")),
            ("region", t("Region")),
            ("river_or_lake", t("River or lake")),
            ("water_body", t("Water body")),
            ("control", t("Control")),
            ("target_class", t("Target class")),
        ],
        fmt,
    )


@water.command("refresh")
@click.option("--since", metavar="YYYY-MM", help="Only months from this one on.")
@format_option("table", "json")
@pass_env
def refresh_cmd(env: Env, since: str | None, fmt: str) -> None:
    """Recompute the derived measurements (section classes, rates) from the readings."""
    from duban.core.api import parse_month

    from .quality import refresh

    start = parse_month(since, what="--since")[0] if since else None
    with env.session() as session:
        counts = refresh(session=session, since=start)
    emit_one(counts, fmt)


@water.command("rates")
@click.option(
    "--period", metavar="YYYY-MM|YYYY", help="A month or a year (default: the latest month)."
)
@format_option()
@pass_env
def rates_cmd(env: Env, period: str | None, fmt: str) -> None:
    """Good-quality share, 劣V share and drinking-source compliance by province, city and lake."""
    from duban.core.api import last_of_month, parse_period

    from .panels import latest_classes
    from .quality import tallies, window_classes
    from .sections import load_sections

    with env.session(write=False) as session:
        sections = load_sections(session)
        if period:
            start, end = parse_period(period, what="--period")
            classes = window_classes(session, sections, start, end, as_of=env.today)
        else:
            month, classes = latest_classes(session, env.today)
            if month is None:
                raise UserError(
                    t("no water readings yet; import them with `duban import water-readings FILE`")
                )
            start, end = month, last_of_month(month)
        rows = [
            {"period": f"{start.isoformat()}/{end.isoformat()}", **tally.as_dict()}
            for tally in tallies(session, sections, classes)
        ]
    emit(
        rows,
        [
            ("scope", t("Scope")),
            ("name", t("Name")),
            ("assessed", t("Assessed")),
            ("good", t("Good (I–III)")),
            ("good_rate", t("Good rate %")),
            ("worse_than_v", t("劣V")),
            ("worse_than_v_share", t("劣V share %")),
        ],
        fmt,
    )
