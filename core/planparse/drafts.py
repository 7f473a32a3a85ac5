"""A parsed plan as a YAML draft to review."""

from __future__ import annotations

from typing import Any


def draft_yaml(data: dict[str, Any], unparsed: list[dict[str, Any]], *, source: str) -> str:
    """The parsed plan as a duban-plan/1 YAML file, with what needs review as comments on top."""
    import yaml

    lines = [
        f"# Draft plan read from {source} by `duban import plan`.",
        "# Review it (titles in English, summaries, owners' regions), then: duban import plan THIS.yaml",
    ]
    if unparsed:
        lines.append("# Not interpreted — check these against the document:")
        for item in unparsed:
            where = f"{item['task']} " if item.get("task") else ""
            text = " ".join(str(item.get("text") or "").split())
            lines.append(f"#   {where}{item['why']}" + (f": {text}" if text else ""))

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # shared dates must not become &anchors
            return True

    body = yaml.dump(
        data,
        Dumper=Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )
    return "\n".join(lines) + "\n" + body
