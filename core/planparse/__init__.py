"""Reading a plan document (.txt, .md, .docx) into the ``duban-plan/1`` structure.

Pure: no database. The modules, each for what it holds: ``documents`` (files to text),
``numerals``, ``dates``, ``outline`` (numbered items), ``clauses`` (responsibility),
``goals`` (targets), ``reference`` (owners, regions and indicators from the package data),
``parser`` (the parse) and ``drafts`` (YAML to review). Loading a parsed plan into the
database is ``duban.core.services.plans.import_parsed_plan``.
"""

from .dates import occurrences
from .documents import DOCUMENT_SUFFIXES, read_document
from .drafts import draft_yaml
from .goals import match_goal, split_scopes
from .parser import PLAN_FORMAT, ParseResult, parse_file, parse_plan, summarize
from .reference import Reference, builtin_reference

__all__ = [
    "DOCUMENT_SUFFIXES",
    "PLAN_FORMAT",
    "ParseResult",
    "Reference",
    "builtin_reference",
    "draft_yaml",
    "match_goal",
    "occurrences",
    "parse_file",
    "parse_plan",
    "read_document",
    "split_scopes",
    "summarize",
]
