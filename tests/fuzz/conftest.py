"""Hypothesis profiles for the fuzz suite: ``ci`` (the default, bounded so the whole suite
takes well under a minute) and ``long`` for local runs (``HYPOTHESIS_PROFILE=long``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # an import touches a real database: timings vary
    "database": None,  # leave no .hypothesis folder behind
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # tmp_path; each example compares the database
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}
settings.register_profile("ci", max_examples=6, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
