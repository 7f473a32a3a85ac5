"""One obligation: summary, assignments, milestones, targets with their charts, the
escalation timeline, evidence, close-outs and the audit history; actions in the footer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import LoadingIndicator, Static

from duban.core.clock import to_local_date
from duban.core.i18n import language, pick, t
from duban.core.labels import action_label, domain_label, goal_text
from duban.core.models import Role, State

from .. import data
from ..text import STATUS_STYLES, light_label, light_style, role_label, state_label, status_label
from ..widgets.chart import TargetChart
from ..widgets.ladder import level_badge
from . import forms
from .base import DubanScreen


def section(title: str, *children: Any, id: str | None = None) -> Vertical:
    box = Vertical(*children, classes="panel", id=id)
    box.border_title = title
    return box


class DetailScreen(DubanScreen):
    TITLE_MSGID = "Obligation"
    # action, palette verb (msgid), help (msgid): shown in the footer and the palette.
    ACTIONS = (
        ("report", "report progress", "Report progress for a period (进展报送)"),
        ("record", "record reading", "Record a reading of one of its targets"),
        ("evidence", "attach evidence", "Attach a file or URL"),
        ("submit", "submit for close-out", "Ask for close-out (申请销号) with evidence"),
        ("verify", "verify close-out", "Accept the close-out: the obligation closes"),
        ("reject", "reject close-out", "Send the close-out back"),
        ("escalate", "escalate", "Escalate by hand"),
        ("split", "split by region", "Decompose into one obligation per region"),
        ("edit", "edit", "Change its state"),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="detail.back"),
        Binding("b", "report", "Report", id="detail.report"),
        Binding("r", "record", "Record", id="detail.record"),
        Binding("v", "evidence", "Evidence", id="detail.evidence"),
        Binding("s", "submit", "Submit", id="detail.submit"),
        Binding("y", "verify", "Verify", id="detail.verify"),
        Binding("n", "reject", "Reject", id="detail.reject"),
        Binding("x", "escalate", "Escalate", id="detail.escalate"),
        Binding("p", "split", "Split", id="detail.split"),
        Binding("u", "edit", "Edit", id="detail.edit"),
    ]
    FORMS: ClassVar[dict[str, Any]] = {
        "report": forms.ReportForm,
        "record": forms.RecordForm,
        "evidence": forms.EvidenceForm,
        "submit": forms.SubmitForm,
        "verify": forms.VerifyForm,
        "reject": forms.RejectForm,
        "escalate": forms.EscalateForm,
        "split": forms.SplitForm,
        "edit": forms.EditForm,
    }

    def __init__(self, obligation_id: int) -> None:
        super().__init__()
        self.obligation_id = obligation_id
        self.data: dict[str, Any] | None = None

    def body(self) -> ComposeResult:
        d = self.data
        if d is None:
            yield LoadingIndicator()
            return
        with VerticalScroll(id="detail"):
            title = Text.assemble(
                (f"{d['code'] or '#' + str(d['id'])}  ", "bold"),
                (pick(d["title"], d["title_en"]), "bold"),
            )
            facts = Text.assemble((t("State") + " ", "dim"), state_label(d["state"]))
            if d["level"]:
                facts.append("  ·  ")
                facts.append_text(level_badge(d["level"]))
            if d["overdue"]:
                facts.append("  ·  ")
                facts.append(t("overdue"), style="bold red")
            if d["light"]:
                facts.append("  ·  ")
                facts.append(light_label(d["light"]), style=light_style(d["light"]))
            facts.append(
                Text.assemble("  ·  ", (t("Domain") + " ", "dim"), domain_label(d["domain"]))
            )
            if d["region"]:
                facts.append(
                    Text.assemble(
                        "  ·  ", (t("Region") + " ", "dim"), pick(d["region"], d["region_en"])
                    )
                )
            facts.append(Text.assemble("  ·  ", (t("Version") + " ", "dim"), str(d["version"])))
            yield Static(title, id="detail-title")
            yield Static(facts, id="detail-facts")
            with Horizontal(id="detail-top"):
                with Vertical(id="detail-left"):
                    body = pick(d["body"], d["body_en"])
                    if body:
                        yield section(t("Text"), Static(body, classes="body-text"))
                    yield section(t("Assignments"), Static(self._assignments(d)))
                    yield section(t("Milestones"), Static(self._milestones(d)))
                with Vertical(id="detail-right"):
                    targets = d["target_rows"]
                    if not targets:
                        yield section(
                            t("Targets"), Static(t("No quantitative targets."), classes="dim")
                        )
                    for tg in targets:
                        yield section(
                            tg["name"],
                            Static(self._target_text(tg)),
                            TargetChart(tg, self.app.as_of, classes="chart"),
                        )
            yield section(t("Progress reports"), Static(self._reports(d)))
            yield section(t("Escalations"), Static(self._escalations(d)))
            with Horizontal(id="detail-bottom"):
                yield section(t("Evidence and close-out"), Static(self._evidence(d)))
                yield section(t("History"), Static(self._audit(d)))

    # Text blocks -------------------------------------------------------------------------
    def _assignments(self, d: dict[str, Any]) -> Text:
        out = Text()
        for role in Role:
            names = [
                pick(a["owner"], a.get("owner_en"))
                for a in d["assignments"]
                if a["role"] == role.value
            ]
            if names:
                out.append(f"{role_label(role.value)}  ", style="bold")
                out.append(("、" if language() == "zh" else "; ").join(names) + "\n")
        return out

    def _milestones(self, d: dict[str, Any]) -> Text:
        out = Text()
        as_of = self.app.as_of
        for m in d["milestones"]:
            due = m["due"]
            title = pick(m["title"], m["title_en"])
            if m["done"] and m["done"] < as_of.isoformat():
                out.append(f"✓ {due} ", style="green")
                out.append(t("done {day}", day=m["done"]), style="dim")
            elif due < as_of.isoformat():
                from datetime import date

                late = (as_of - date.fromisoformat(due)).days
                out.append(f"! {due} ", style="bold red")
                out.append(t("overdue {n} days", n=late), style="red")
            else:
                out.append(f"· {due} ")
            if title != pick(d["title"], d["title_en"]):
                out.append(f"  {title}", style="dim")
            out.append("\n")
        if d["horizon"]:  # undated: the plan's end, which is no deadline
            out.append(f"· {d['horizon']['due']} ", style="dim")
            out.append(t("the plan's end (implied)"), style="dim italic")
        return out or Text(t("No milestones."), style="dim")

    def _target_text(self, tg: dict[str, Any]) -> Text:
        st = tg["status"]
        goal = goal_text(tg["comparator"], tg["value"], tg["unit"])
        out = Text.assemble(
            (t("Goal") + " ", "dim"),
            goal,
            " " + t("or {route}", route=tg["alternative"]) if tg["alternative"] else "",
            (" " + t("by {day}", day=tg["due"]), "dim"),
            "  ",
            (status_label(st["status"]), STATUS_STYLES.get(st["status"], "")),
        )
        figures = []
        if st["latest_value"] is not None:
            figures.append(
                t("latest {value} ({day})", value=f"{st['latest_value']:g}", day=st["latest_date"])
            )
        if st["expected"] is not None:
            figures.append(t("path {value}", value=f"{st['expected']:.4g}"))
        if st["forecast"] is not None:
            figures.append(t("forecast {value} at due", value=f"{st['forecast']:.4g}"))
        if figures:
            out.append("\n" + " · ".join(figures), style="dim")
        if tg["scope"]:
            out.append(f"\n{tg['scope']}", style="dim")
        return out

    def _escalations(self, d: dict[str, Any]) -> Text:
        out = Text()
        for e in d["escalation_rows"]:
            out.append(f"{to_local_date(e['opened']).isoformat()} ", style="dim")
            out.append_text(level_badge(e["level"]))
            out.append(f"  #{e['id']} {e['reason']}")
            if e["acknowledged"]:
                out.append(
                    "  " + t("acknowledged by {user}", user=e["acknowledged_by"]), style="dim"
                )
            if e["resolved"]:
                out.append(
                    "  " + t("resolved {day}", day=to_local_date(e["resolved"]).isoformat()),
                    style="green",
                )
            out.append("\n")
        return out or Text(t("No escalations."), style="dim")

    def _reports(self, d: dict[str, Any]) -> Text:
        """The report history, newest first; superseded reports dimmed."""
        out = Text()
        for r in reversed(d["reports"]):
            style = "dim" if r["superseded_by"] else ""
            out.append(f"{r['period']} ", style="bold")
            out.append(f"{r['owner']} ({role_label(r['role'])})", style=style)
            if r["percent"] is not None:
                out.append(f"  {r['percent']}%", style=style)
            out.append(f"  {r['progress']}", style=style)
            if r["problems"]:
                out.append(f"  {t('Problems')}: {r['problems']}", style="dim")
            if r["next_steps"]:
                out.append(f"  {t('Next steps')}: {r['next_steps']}", style="dim")
            out.append(
                f"  {r['submitted_by']} {to_local_date(datetime.fromisoformat(r['submitted_at']))}",
                style="dim",
            )
            if r["superseded_by"]:
                out.append("  " + t("superseded"), style="dim")
            out.append("\n")
        return out or Text(t("No progress reports yet."), style="dim")

    def _evidence(self, d: dict[str, Any]) -> Text:
        out = Text()
        for ev in d["evidence"]:
            out.append("· ")
            out.append(ev["uri"])
            if ev["sha256"]:
                out.append(f"  sha256:{ev['sha256'][:12]}", style="dim")
            if ev["note"]:
                out.append(f"  {ev['note']}", style="dim")
            out.append("\n")
        for s in d["submissions"]:
            out.append(
                t("submitted by {user} {day}", user=s["by"], day=to_local_date(s["at"]).isoformat())
            )
            if s["decision"]:
                style = "green" if s["decision"] == "verified" else "red"
                out.append("  " + t(s["decision"]) + f" ({s['decided_by']})", style=style)
                if s["reason"]:
                    out.append(f"  {s['reason']}", style="dim")
            else:
                out.append("  " + t("awaiting a decision"), style="yellow")
            out.append("\n")
        return out or Text(t("No evidence yet."), style="dim")

    def _audit(self, d: dict[str, Any]) -> Text:
        out = Text()
        for a in d["audit"]:
            out.append(f"{to_local_date(a['at']).isoformat()} ", style="dim")
            out.append(f"{a['actor']}  {action_label(a['action'])}  ")
            out.append(f"{a['summary']}\n", style="dim")
        return out

    # Data --------------------------------------------------------------------------------
    def fetch(self, session: Session) -> dict[str, Any]:
        return data.obligation(
            session=session, obligation_id=self.obligation_id, as_of=self.app.as_of
        )

    async def show(self, d: dict[str, Any]) -> None:
        self.data = d
        await self.recompose()
        self.refresh_bindings()

    async def refresh_view(self) -> None:
        self.stamp = self.app.stamp
        self.refresh_status()
        self.load()

    # Actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in self.FORMS:
            return True
        if self.data is None:
            return False
        state = self.data["state"]
        live = state not in (State.closed, State.cancelled)
        return {
            "report": live,
            "record": bool(self.data["target_rows"]),
            "submit": state in (State.open, State.in_progress),
            "verify": state == State.submitted,
            "reject": state == State.submitted,
            "escalate": live,
            "split": live,
            "edit": live and state != State.submitted,
        }.get(action, True)

    def _open_form(self, action: str) -> None:
        if self.data is None:
            return
        self.app.push_screen(self.FORMS[action](obligation=self.data), self._after_form)

    async def _after_form(self, result: Any) -> None:
        if result is not None:
            await self.app.changed()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_report(self) -> None:
        self._open_form("report")

    def action_record(self) -> None:
        self._open_form("record")

    def action_evidence(self) -> None:
        self._open_form("evidence")

    def action_submit(self) -> None:
        self._open_form("submit")

    def action_verify(self) -> None:
        self._open_form("verify")

    def action_reject(self) -> None:
        self._open_form("reject")

    def action_escalate(self) -> None:
        self._open_form("escalate")

    def action_split(self) -> None:
        self._open_form("split")

    def action_edit(self) -> None:
        self._open_form("edit")
