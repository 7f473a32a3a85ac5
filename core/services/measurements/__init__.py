"""Measurements: recording readings, importing them in bulk, and reading a subject's series.

A reading is an indicator's value for one subject (``region:<code>`` or ``site:<key>``) over
one observed period. The unique (indicator, subject, period) key makes recording and
importing idempotent: the same reading again changes nothing; a different value for the same
key is a correction and replaces the old one (audited). See docs/measurements.md.

- ``indicators``: the installed indicators and checking a reading's number against one;
- ``subjects``: what a reading is of (a region or a site);
- ``evidence``: files and URLs backing a reading;
- ``recording``: recording or correcting one reading;
- ``importer``: importing a file of readings;
- ``subject_series``: a subject's readings as of a day, a region's aggregated from below.

Periods are read by ``core/dates.py``, the one module for calendar arithmetic.
"""

from ...dates import period as parse_period
from .evidence import add_evidence
from .importer import import_measurements
from .indicators import check_bounds, get_indicator, indicators, parse_number
from .recording import record
from .subject_series import readings_as_of, recorded_by, series
from .subjects import resolve_site, resolve_subject

__all__ = [
    "add_evidence",
    "check_bounds",
    "get_indicator",
    "import_measurements",
    "indicators",
    "parse_number",
    "parse_period",
    "readings_as_of",
    "record",
    "recorded_by",
    "resolve_site",
    "resolve_subject",
    "series",
]
