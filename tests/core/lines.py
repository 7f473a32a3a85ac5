"""Lines of an obligations import (JSONL) that several import tests build on."""

# A target as an import line gives it: the plan's water quality rate for the province.
TARGET = {
    "indicator": "water.national_section_good_quality_rate",
    "comparator": "gte",
    "value": 97.3,
    "due": "2025-12-31",
    "scope": {"type": "region", "code": "430000", "name": "湖南省"},
}
