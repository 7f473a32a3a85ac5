"""Forms: small modal screens that collect input, run one service call in a thread worker
and explain a refusal in place (the form stays open with the message under the fields).

Each form names its fields and implements ``perform(session, values)``, which calls the
real service; whatever ``UserError`` the service raises is what the person reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from sqlmodel import Session
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from duban.core.errors import UserError
from duban.core.i18n import t
from duban.core.labels import LEVEL_NAMES
from duban.core.vocabulary import LEVEL_ORDER


@dataclass
class Field:
    name: str
    label: str  # English msgid
    placeholder: str = ""
    value: str = ""
    options: list[tuple[str, str]] | None = None  # (shown, value) for a choice
    required: bool = False
    hint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    multiline: bool = False  # a text area (a report's progress, say) instead of one line


class Form(ModalScreen[Any]):
    """Subclasses set ``TITLE`` (msgid) and ``fields()``, and implement ``perform``."""

    TITLE = ""
    WRITE = True  # perform in a writing transaction
    # The first field takes the keyboard as the form opens (the scroll box would otherwise).
    AUTO_FOCUS = ".form-row Input, .form-row Select, .form-row TextArea, #form-buttons Button"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "OK", id="form.submit"),
    ]

    def __init__(self, **context: Any) -> None:
        super().__init__()
        self.context = context

    def fields(self) -> list[Field]:
        return []

    def intro(self) -> str:
        """Text shown above the fields (already translated), if any."""
        return ""

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        raise NotImplementedError

    def success(self, result: Any) -> str | None:
        """What to tell the person afterwards (a notification)."""
        return None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form", classes="form"):
            yield Label(t(self.TITLE), id="form-title")
            if self.intro():
                yield Static(self.intro(), classes="form-hint")
            for f in self.fields():
                with Horizontal(classes="form-row"):
                    yield Label(t(f.label) + (" *" if f.required else ""), classes="form-label")
                    if f.options is not None:
                        yield Select(
                            [(t(shown), value) for shown, value in f.options],
                            id=f"field-{f.name}",
                            allow_blank=not f.required,
                            value=f.value if f.value else Select.NULL,
                            prompt=t("choose"),
                        )
                    elif f.multiline:
                        yield TextArea(f.value, id=f"field-{f.name}", classes="form-text")
                    else:
                        yield Input(f.value, id=f"field-{f.name}", placeholder=t(f.placeholder))
                if f.hint:
                    yield Static(t(f.hint), classes="form-hint")
            yield Static(id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(t("OK"), id="form-ok", variant="primary")
                yield Button(t("Cancel"), id="form-cancel")

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields():
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Select):
                out[f.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, TextArea):
                out[f.name] = widget.text.strip()
            else:
                out[f.name] = widget.value.strip()  # type: ignore[attr-defined]
        return out

    def show_error(self, message: str | None) -> None:
        note = self.query_one("#form-error", Static)
        note.update(message or "")
        note.set_class(bool(message), "-error")

    def on_key(self, event: events.Key) -> None:
        """A printable key reaching the form itself was typed before a field had the
        keyboard (the form still opening): it goes into the field, not lost."""
        if not event.is_printable or event.character is None:
            return
        fields = self.query(".form-row Input, .form-row TextArea")
        target = self.focused if self.focused in fields else next(iter(fields), None)
        if target is None:
            return
        event.stop()
        if self.focused is not target:
            target.focus()
        # Queued behind the focus event, ahead of the keys still coming.
        target.post_message(events.Key(event.key, event.character))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-ok":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        values = self.values()
        for f in self.fields():
            if f.required and not values[f.name]:
                self.show_error(t("{field}: required", field=t(f.label)))
                self.query_one(f"#field-{f.name}").focus()
                return
        self.show_error(None)
        self.query_one("#form-ok", Button).disabled = True
        app = self.app

        def work() -> None:
            try:
                with app.env.session(write=self.WRITE) as session:  # type: ignore[attr-defined]
                    result = self.perform(session, values)
                    message = self.success(result)  # while the rows are still attached
            except UserError as exc:
                app.call_from_thread(self._refused, str(exc))
                return
            app.call_from_thread(self._done, result, message)

        self.run_worker(work, thread=True, exclusive=True, group="form")

    def _refused(self, message: str) -> None:
        self.query_one("#form-ok", Button).disabled = False
        self.show_error(message)

    def _done(self, result: Any, message: str | None) -> None:
        if message:
            self.app.notify(message)
        self.dismiss(result if result is not None else True)


def ob_ref(context: dict[str, Any]) -> int:
    return context["obligation"]["id"]


# The date under review --------------------------------------------------------------------
class AsOfForm(Form):
    TITLE = "Review the campaign as of"
    WRITE = False

    def __init__(self, current: date) -> None:
        super().__init__(current=current)

    def fields(self) -> list[Field]:
        return [
            Field(
                "day",
                "Date",
                "YYYY-MM-DD",
                self.context["current"].isoformat(),
                required=True,
                hint="Everything is shown as it stood at the end of that day; writes keep "
                "the real clock.",
            )
        ]

    def perform(self, session: Session, values: dict[str, str]) -> date:
        from duban.core.clock import parse_date

        return parse_date(values["day"], what=t("Date"))


# Readings and evidence ---------------------------------------------------------------------
class RecordForm(Form):
    TITLE = "Record a reading"

    def fields(self) -> list[Field]:
        targets = self.context["obligation"]["target_rows"]
        options = [(f"{tg['name']} · {tg['scope'] or '-'}", str(tg["id"])) for tg in targets]
        return [
            Field(
                "target",
                "Target",
                options=options,
                required=True,
                value=str(targets[0]["id"]) if len(targets) == 1 else "",
            ),
            Field("period", "Period", "2024, 2024-Q2, 2024-06 or 2024-06-15", required=True),
            Field("value", "Value", "97.5", required=True),
            Field("source", "Source", "e.g. monthly monitoring report"),
            Field("evidence", "Evidence", "a file path or an http(s) URL"),
            Field("note", "Note"),
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.measurements import parse_period, record

        target = next(
            tg
            for tg in self.context["obligation"]["target_rows"]
            if str(tg["id"]) == values["target"]
        )
        if not target["subject"]:
            raise UserError(
                t("target {name} has no region or site to record for", name=target["name"])
            )
        start, end = parse_period(values["period"], what=t("Period"))
        return record(
            session=session,
            indicator=target["indicator"],
            value=values["value"],
            subject=target["subject"],
            period_start=start,
            period_end=end,
            source=values["source"] or None,
            evidence=values["evidence"] or None,
            note=values["note"] or None,
        )

    def success(self, result: Any) -> str:
        return t("Reading recorded: {value}", value=f"{result.value:g}")


class EvidenceForm(Form):
    TITLE = "Attach evidence"

    def fields(self) -> list[Field]:
        return [
            Field("ref", "File or URL", "/path/to/report.pdf or https://…", required=True),
            Field("note", "Note"),
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.base import require_writer
        from duban.core.services.measurements import add_evidence

        require_writer(session, ob_ref(self.context))
        return add_evidence(
            session=session,
            ref=values["ref"],
            obligation_id=ob_ref(self.context),
            note=values["note"] or None,
            what=t("File or URL"),
        )

    def success(self, result: Any) -> str:
        return t("Evidence attached: {uri}", uri=result.uri)


# Progress reports ---------------------------------------------------------------------------
class ReportForm(Form):
    """A progress report (进展报送) for a period; the lead sees the other owners' reports of
    the same period while writing its own."""

    TITLE = "Report progress"

    def _period(self) -> str:
        return self.context.get("period") or self.context["obligation"].get("report_period", "")

    def intro(self) -> str:
        period = self._period()
        others = [
            r
            for r in self.context["obligation"].get("reports", [])
            if r["period"] == period and r["role"] != "lead" and r["superseded_by"] is None
        ]
        return "\n".join(
            t("{owner} reported: {text}", owner=r["owner"], text=r["progress"]) for r in others
        )

    def fields(self) -> list[Field]:
        ob = self.context["obligation"]
        pending = [m for m in ob["milestones"] if not m["done"]]
        return [
            Field(
                "period",
                "Report period",
                "2024-05, 2024-Q2 or 2024-H1",
                self._period(),
                required=True,
            ),
            Field("progress", "Progress made", required=True, multiline=True),
            Field("problems", "Problems", multiline=True),
            Field("next", "Next steps", multiline=True),
            Field("percent", "Percent complete", "0–100"),
            Field(
                "milestone",
                "Milestone done",
                options=[(f"{m['due']} {m['title']}", str(m["id"])) for m in pending],
            ),
            Field("on", "Done on", "YYYY-MM-DD"),
            Field("evidence", "Evidence", "a file path or an http(s) URL"),
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.clock import parse_date
        from duban.core.services.reports import Claim, add_report

        percent = values["percent"]
        if percent and not percent.isdigit():
            raise UserError(
                t(
                    "{what}: a whole number from 0 to 100, not {value!r}",
                    what=t("Percent complete"),
                    value=percent,
                )
            )
        claim = None
        if values["milestone"]:
            on = parse_date(values["on"], what=t("Done on")) if values["on"] else None
            if on is None:
                raise UserError(t("{field}: required", field=t("Done on")))
            claim = Claim(
                int(values["milestone"]), on, [values["evidence"]] if values["evidence"] else []
            )
        return add_report(
            session=session,
            ref=ob_ref(self.context),
            period=values["period"],
            progress=values["progress"],
            problems=values["problems"] or None,
            next_steps=values["next"] or None,
            percent=int(percent) if percent else None,
            claim=claim,
        )

    def success(self, result: Any) -> str:
        return t("Report for {period} recorded", period=result.period)


# Escalations --------------------------------------------------------------------------------
LEVEL_OPTIONS = [(LEVEL_NAMES[level], level.value) for level in LEVEL_ORDER]


class EscalateForm(Form):
    TITLE = "Escalate by hand"

    def fields(self) -> list[Field]:
        return [
            Field("level", "Level", options=LEVEL_OPTIONS, required=True),
            Field("reason", "Reason", required=True),
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.escalations import escalate

        return escalate(
            session=session,
            ref=ob_ref(self.context),
            level=values["level"],
            reason=values["reason"],
        )

    def success(self, result: Any) -> str:
        from ..text import level_label

        return t("Escalated to {level} (#{id})", level=level_label(result.level), id=result.id)


class AcknowledgeForm(Form):
    TITLE = "Acknowledge an escalation"

    def fields(self) -> list[Field]:
        return [Field("note", "What is being done", required=True)]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.escalations import acknowledge

        return acknowledge(session=session, ref=self.context["escalation_id"], note=values["note"])

    def success(self, result: Any) -> str:
        return t("Escalation #{id} acknowledged", id=result.id)


# Close-out ----------------------------------------------------------------------------------
class SubmitForm(Form):
    TITLE = "Submit for close-out"

    def fields(self) -> list[Field]:
        return [
            Field(
                "evidence",
                "Evidence",
                "files or URLs, separated by spaces",
                required=True,
                hint="Close-out needs evidence; another coordinator verifies it.",
            ),
            Field("note", "Note"),
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.closeout import submit

        return submit(
            session=session,
            ref=ob_ref(self.context),
            evidence=values["evidence"].split(),
            note=values["note"] or None,
        )

    def success(self, result: Any) -> str:
        return t("Submitted for close-out")


class VerifyForm(Form):
    TITLE = "Verify the close-out"

    def fields(self) -> list[Field]:
        return []

    def on_mount(self) -> None:
        subs = [s for s in self.context["obligation"]["submissions"] if s["decision"] is None]
        who = subs[-1]["by"] if subs else "?"
        self.query_one("#form-title", Label).update(
            t(
                "Verify the close-out of {code} submitted by {user}? The obligation closes.",
                code=self.context["obligation"]["code"] or f"#{ob_ref(self.context)}",
                user=who,
            )
        )

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.closeout import verify

        return verify(session=session, ref=ob_ref(self.context))

    def success(self, result: Any) -> str:
        return t("Close-out verified: the obligation is closed")


class RejectForm(Form):
    TITLE = "Reject the close-out"

    def fields(self) -> list[Field]:
        return [Field("reason", "Reason", required=True)]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.closeout import reject

        return reject(session=session, ref=ob_ref(self.context), reason=values["reason"])

    def success(self, result: Any) -> str:
        return t("Close-out rejected: back to in progress")


# Imports ------------------------------------------------------------------------------------
class ImportForm(Form):
    """Choose what to import and from where; the import itself runs behind a progress bar."""

    TITLE = "Import a file"
    WRITE = False

    def fields(self) -> list[Field]:
        return [
            Field("kind", "Kind", options=self.context["kinds"], required=True),
            Field("path", "File", "/path/to/file", required=True),
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from pathlib import Path

        path = Path(values["path"]).expanduser()
        if not path.is_file():
            raise UserError(t("{path}: no such file", path=path))
        return values["kind"], path


# Decomposition and edits --------------------------------------------------------------------
class SplitForm(Form):
    TITLE = "Split by region"

    def fields(self) -> list[Field]:
        return [
            Field(
                "by",
                "Level",
                options=[("Cities", "city"), ("Counties", "county")],
                required=True,
                value="city",
            ),
            Field(
                "targets",
                "Copy targets",
                options=[("No", "no"), ("Yes", "yes")],
                required=True,
                value="no",
            ),
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.services.split import split

        return split(
            session=session,
            ref=ob_ref(self.context),
            by=values["by"],
            targets=values["targets"] == "yes",
        )

    def success(self, result: Any) -> str:
        return t("Split into {n} obligations", n=len(result))


EDITABLE_STATES = [
    ("Not started", "open"),
    ("In progress", "in_progress"),
    ("Cancelled", "cancelled"),
]


class EditForm(Form):
    """Change the state by hand (start work, cancel); close-out has its own forms. The
    version read with the obligation guards against someone else's change in between."""

    TITLE = "Edit the obligation"

    def fields(self) -> list[Field]:
        return [
            Field(
                "state",
                "State",
                options=EDITABLE_STATES,
                required=True,
                value=self.context["obligation"]["state"]
                if self.context["obligation"]["state"] in dict(map(reversed, EDITABLE_STATES))
                else "",
            )
        ]

    def perform(self, session: Session, values: dict[str, str]) -> Any:
        from duban.core.errors import Conflict
        from duban.core.models import State
        from duban.core.services.base import require_coordinator, require_writer
        from duban.core.services.obligations import CLOSED_STATES, get_obligation, set_state

        ob = get_obligation(session=session, ref=ob_ref(self.context))
        if values["state"] == State.cancelled:
            require_coordinator(session)
        else:
            require_writer(session, ob.id)
        if ob.state in CLOSED_STATES or ob.state == State.submitted:
            raise Conflict(
                t(
                    "obligation #{id} is {state}; its state changes through close-out",
                    id=ob.id,
                    state=t(ob.state),
                )
            )
        if ob.state == values["state"]:
            return ob
        return set_state(
            session=session,
            obligation=ob,
            state=values["state"],
            expected_version=self.context["obligation"]["version"],
            action="obligation.edit",
        )

    def success(self, result: Any) -> str:
        from ..text import state_label

        return t("Saved: {state}", state=state_label(result.state))
