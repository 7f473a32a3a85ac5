"""A reading corrected later: a read as of a day before the correction sees the figures it
had then, in ``status``, the lean series and the services' series alike; the database
keeps what each correction replaced, whoever makes it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from duban.core.cli.context import Env
from duban.core.testing import COORDINATOR, Runner

RATE = "water.national_section_good_quality_rate"
# Recorded on 1 March, corrected on 1 May and again on 1 June (sandbox days).
RECORDED = (("2024-03-01", "90"), ("2024-05-01", "95"), ("2024-06-01", "96.5"))
SEEN = {"2024-02-01": None, "2024-04-01": 90.0, "2024-05-15": 95.0, "2024-06-02": 96.5}


def _world(db_url: str) -> Runner:
    duban = Runner(db_url)
    duban.ok("init", "--sandbox", as_of="2024-01-01")
    for day, value in RECORDED:
        duban.ok("record", RATE, value, "--region", "430000", "--at", "2023", as_of=day)
    return duban


def test_each_earlier_day_sees_the_figures_it_had(db_url: str) -> None:
    duban = _world(db_url)

    def latest(day: str) -> set[float | None]:
        rows = duban.ok("status", "--format", "json", as_of=day).json()
        return {
            r["latest_value"]
            for r in rows
            if r["indicator"] == RATE and (r["scope"] or {}).get("code") == "430000"
        }

    for day, value in SEEN.items():
        assert latest(day) == {value}, day

    _series_are(db_url, RATE, SEEN)


def _series_are(db_url: str, indicator: str, seen: dict[str, float | None]) -> None:
    """The province's series as of each day, through the services (ORM) and the lean path."""
    from duban.core import readings
    from duban.core.plugins import get_host
    from duban.core.services.measurements import series

    env = Env.create(db_url=db_url, actor=COORDINATOR, as_of=None)
    try:
        with env.session(write=False) as session:
            region = session.execute(sa.text("SELECT id FROM region WHERE code = '430000'"))
            region_id = region.scalar_one()
            known = get_host().indicators()
            for day, value in seen.items():
                until = date.fromisoformat(day)
                expected = [] if value is None else [value]
                orm = series(session=session, indicator=indicator, region_id=region_id, until=until)
                assert [m.value for m in orm] == expected, day
                with env.reading() as db:
                    lean = readings.series(
                        db, indicator=indicator, region_id=region_id, until=until, known=known
                    )
                assert [r.value for r in lean] == expected, day
    finally:
        env.close()


def test_a_region_filled_from_below_sees_the_figures_below_as_they_were(db_url: str) -> None:
    """The province has no reading of its own: its series is the mean of its cities'. One
    city's reading corrected on 1 May: as of April the mean is of the figures then."""
    mean = "general.fertilizer_utilization_rate"
    duban = Runner(db_url)
    duban.ok("init", "--sandbox", as_of="2024-01-01")
    for city, value in (("430100", "60"), ("430200", "70")):
        duban.ok("record", mean, value, "--region", city, "--at", "2023", as_of="2024-03-01")
    duban.ok("record", mean, "80", "--region", "430100", "--at", "2023", as_of="2024-05-01")
    _series_are(db_url, mean, {"2024-02-01": None, "2024-04-01": 65.0, "2024-05-02": 75.0})


def test_the_database_keeps_what_each_correction_replaced(db_url: str, tmp_path) -> None:
    """Three corrections, by hand and by an import, three revisions: each with the figures,
    who and when it was recorded, and when it was replaced."""
    duban = _world(db_url)
    path = tmp_path / "readings.csv"
    path.write_text(f"indicator,region,period,value\n{RATE},430000,2023,97\n", encoding="utf-8")
    duban.ok("import", "measurements", str(path), as_of="2024-07-01")
    env = Env.create(db_url=db_url, actor=COORDINATOR, as_of=None)
    try:
        with env.session(write=False) as session:
            kept = session.execute(
                sa.text(
                    "SELECT r.value, r.recorded_by, r.recorded_at < r.replaced_at"
                    " FROM measurement_revision r JOIN measurement m ON m.id = r.measurement_id"
                    " WHERE m.indicator = :rate ORDER BY r.id"
                ),
                {"rate": RATE},
            ).all()
            assert [tuple(row) for row in kept] == [
                (90.0, COORDINATOR, True),
                (95.0, COORDINATOR, True),
                (96.5, COORDINATOR, True),
            ]
    finally:
        env.close()
    assert duban.ok("audit", "verify").exit_code == 0
