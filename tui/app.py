"""The duban terminal UI: one Textual app, created by ``create_app`` for the CLI and tests.

Navigation uses Textual modes: each top-level section (dashboard, obligations, escalations,
owners, agenda, plugins, inbox, and the screens plugins add, such as the supervision
plugin's ledger) keeps its own screen stack, so going to the agenda
and back returns to the obligation you were reading. Everything that touches the database
runs in thread workers (``DubanScreen.read`` and the forms); the UI thread only lays out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.worker import Worker, WorkerState, get_current_worker

from duban.core.cli.context import Env
from duban.core.i18n import add_catalog, language, set_language, t

from .commands import DubanCommands
from .hookspecs import TuiScreen
from .themes import THEMES

if TYPE_CHECKING:
    from duban.core.queries import Lean


class Closed(Exception):
    """A read begun after the app began to close (``DubanApp.interruptible``)."""


add_catalog("duban.tui")

# mode -> (screen title msgid, module:class); plugins add theirs (duban_tui_screens).
SECTIONS: dict[str, tuple[str, str]] = {
    "dashboard": ("Dashboard", "dashboard:DashboardScreen"),
    "obligations": ("Obligations", "obligations:ObligationsScreen"),
    "escalations": ("Escalations", "escalations:EscalationsScreen"),
    "owners": ("Owners", "owners:OwnersScreen"),
    "reports": ("Progress reports", "reports:ReportsScreen"),
    "agenda": ("Agenda", "agenda:AgendaScreen"),
    "plugins": ("Plugins", "plugins:PluginsScreen"),
    "inbox": ("Inbox", "inbox:InboxScreen"),
}


def _screen_factory(spec: str) -> Callable[[], Any]:
    """Imports a section's module when it is first opened: start-up loads the dashboard only."""

    def make() -> Any:
        from importlib import import_module

        module, name = spec.split(":")
        return getattr(import_module(f"duban.tui.screens.{module}"), name)()

    return make


class DubanApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "duban"
    COMMANDS = App.COMMANDS | {DubanCommands}
    DEFAULT_MODE = "dashboard"
    MODES: ClassVar[dict[str, Any]] = {
        mode: _screen_factory(spec) for mode, (_, spec) in SECTIONS.items()
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "go('dashboard')", "Dashboard", id="go.dashboard"),
        Binding("o", "go('obligations')", "Obligations", id="go.obligations"),
        Binding("e", "go('escalations')", "Escalations", id="go.escalations"),
        Binding("w", "go('owners')", "Owners", id="go.owners"),
        Binding("a", "go('agenda')", "Agenda", id="go.agenda"),
        Binding("b", "go('reports')", "Reports", id="go.reports"),
        Binding("i", "go('inbox')", "Inbox", id="go.inbox", show=False),
        Binding("g", "go('plugins')", "Plugins", id="go.plugins", show=False),
        Binding("t", "as_of", "As of", id="app.as-of"),
        Binding("L", "language", "Language", id="app.language"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    busy = reactive(0)

    def __init__(
        self,
        env: Env,
        *,
        as_of: date | None = None,
        lang: str | None = None,
        theme: str = "duban-dark",
        early: Future[dict[str, Any]] | None = None,
    ) -> None:
        if lang:
            set_language(lang)
        super().__init__()
        self.env = env
        self.as_of: date = as_of or env.today
        self.version = 0  # bumped after every write: screens reload when they see it change
        self.plan_titles: tuple[str, str | None] | None = None
        self.actor_role: str | None = None
        self.sandbox = False  # a database whose clock may be set: every screen says so
        self.plugin_screens: dict[str, TuiScreen] = {}
        self._early = early  # the first screen's reading, begun before textual loaded
        self._active_workers: set[Worker] = set()
        self._reading: set[Lean] = set()  # connections reading in workers (``interruptible``)
        self._reading_lock = threading.Lock()
        self.closing = False
        self._plugins_collected = False
        for theme_obj in THEMES:
            self.register_theme(theme_obj)
        self.theme = theme

    @contextmanager
    def interruptible(self, db: Lean) -> Iterator[None]:
        """While inside, ``db``'s statement is stopped if the app closes: the process would
        otherwise wait, with the screen gone, for a read nobody will see (the dashboard's
        traffic lights took 35 s at national scale). What is stopped raises in its worker,
        which ``closing`` tells to drop it."""
        with self._reading_lock:
            if self.closing:
                raise Closed
            self._reading.add(db)
        try:
            yield
        finally:
            with self._reading_lock:
                self._reading.discard(db)

    def on_unmount(self) -> None:
        with self._reading_lock:
            self.closing = True
            for db in self._reading:
                db.interrupt()

    @property
    def plan_title(self) -> str:
        from duban.core.i18n import pick

        return pick(*self.plan_titles) if self.plan_titles else ""

    @property
    def stamp(self) -> tuple[str, date, int]:
        return (language(), self.as_of, self.version)

    # Start-up --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.run_worker(self._whoami, thread=True, group="whoami")

    def data_shown(self) -> None:
        """A screen has shown what it read. The first time, once that is drawn, the plugins'
        screens are collected in a thread: loading the plugins and calling their hooks (each
        within the hook time limit) must not hold up the first paint."""
        if not self._plugins_collected:
            self._plugins_collected = True
            self.call_after_refresh(
                self.run_worker, self._collect_plugin_screens, thread=True, group="plugin-screens"
            )

    def early(self, part: str) -> Any:
        """``part`` of the reading ``overview.prefetch`` began, while it still describes what
        is on screen (same date, nothing written since); None otherwise."""
        if self._early is None or self.version or self._early.exception() is not None:
            return None
        found = self._early.result()
        return found[part] if found["as_of"] == self.as_of else None

    def _whoami(self) -> None:
        from . import overview

        who = self.early("identity")
        if who is None:
            with self.env.reading() as db:
                who = overview.identity(db, self.env.actor)
        self.call_from_thread(self._set_identity, who["role"], who["plan_titles"], who["sandbox"])

    def _set_identity(
        self, role: str | None, titles: tuple[str, str | None] | None, sandbox: bool = False
    ) -> None:
        self.actor_role = role
        self.plan_titles = titles
        self.sandbox = sandbox
        self.refresh_status()
        if role == "member" and self.current_mode == "dashboard":
            self.switch_mode("reports")  # a member's first business: what it has to report

    def _collect_plugin_screens(self) -> None:
        """Collect ``duban_tui_screens`` from every plugin, each in isolation (in a thread)."""
        from duban.core.plugins import get_host

        from . import hookspecs

        host = get_host()
        caller = getattr(host.pm.hook, "duban_tui_screens", None)
        if caller is None or not caller.has_spec():
            host.pm.add_hookspecs(hookspecs)
        found: list[TuiScreen] = []

        def register(item: TuiScreen) -> None:
            if not isinstance(item, TuiScreen):
                raise TypeError(f"expected TuiScreen, got {type(item).__name__}")
            found.append(item)

        host.call("duban_tui_screens", register=register)
        if not get_current_worker().is_cancelled:  # not when the app is closing
            self.call_from_thread(self._add_plugin_screens, found)

    def _add_plugin_screens(self, found: list[TuiScreen]) -> None:
        for item in found:
            self.plugin_screens[item.key] = item
            if item.key in self._modes:
                self._modes[item.key] = item.factory
            else:
                self.add_mode(item.key, item.factory)
            if item.binding:
                self.bind(item.binding, f"go('{item.key}')", description=item.title_en)
        if found:
            self.refresh_bindings()  # the footer shows the new keys

    # Navigation ------------------------------------------------------------------------
    def section_names(self) -> list[tuple[str, str, str | None]]:
        """(mode, English title msgid, Chinese title if not in the catalog) of every section
        that can be opened now."""
        out: list[tuple[str, str, str | None]] = [
            (mode, title, None) for mode, (title, _) in SECTIONS.items() if mode in self._modes
        ]
        out += [
            (key, s.title_en, s.title)
            for key, s in self.plugin_screens.items()
            if key not in SECTIONS
        ]
        return out

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides the binding: e.g. no ledger without the supervision plugin.
        return not (action == "go" and parameters and parameters[0] not in self._modes)

    async def action_go(self, mode: str) -> None:
        if mode not in self._modes:
            self.notify(t("{section} is not available", section=mode), severity="warning")
            return
        if self.current_mode == mode and len(self.screen_stack) > 1:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        await self.switch_mode(mode)

    async def open_list(self, filter_line: str) -> None:
        """Show the obligations list filtered by ``filter_line`` (what every door does)."""
        await self.switch_mode("obligations")
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.screen.set_filter(filter_line)  # type: ignore[attr-defined]

    def open_obligation(self, obligation_id: int) -> None:
        from .screens.detail import DetailScreen

        self.push_screen(DetailScreen(obligation_id))

    # Language, date, refresh -----------------------------------------------------------
    async def action_language(self) -> None:
        set_language("en" if language() == "zh" else "zh")
        await self.refresh_screen()

    def action_as_of(self) -> None:
        from .screens.forms import AsOfForm

        self.push_screen(AsOfForm(self.as_of), self._as_of_chosen)

    async def _as_of_chosen(self, chosen: date | None) -> None:
        if chosen is not None and chosen != self.as_of:
            await self.set_as_of(chosen)

    async def set_as_of(self, day: date) -> None:
        self.as_of = day
        await self.refresh_screen()

    async def changed(self) -> None:
        """Something was written: every screen reloads when next seen."""
        self.version += 1
        await self.refresh_screen()

    async def refresh_screen(self) -> None:
        from .screens.base import DubanScreen

        self.refresh_bindings()
        for screen in reversed(self.screen_stack):
            if isinstance(screen, DubanScreen):
                await screen.refresh_view()
                break

    def refresh_status(self) -> None:
        from .screens.base import DubanScreen

        for screen in self.screen_stack:
            if isinstance(screen, DubanScreen):
                screen.refresh_status()

    # Campaign-wide jobs ---------------------------------------------------------------
    async def action_open_filter(self, line: str) -> None:
        await self.open_list(line)

    def action_sweep(self) -> None:
        self._sweep(dry_run=False)

    def action_sweep_preview(self) -> None:
        """What a sweep would open, raise and resolve, before it does (writes nothing)."""
        self._sweep(dry_run=True)

    def _sweep(self, *, dry_run: bool) -> None:
        from .screens.progress import ProgressScreen

        as_of = self.as_of

        def job(session: Any, progress: Any) -> Any:
            from duban.core.services.sweep import sweep

            return sweep(session=session, as_of=as_of, dry_run=dry_run).counts()

        def describe(counts: dict[str, Any]) -> str:
            if dry_run:
                return t(
                    "Preview as of {day}: a sweep would open {opened}, raise {raised} and "
                    "resolve {resolved}; nothing was written",
                    day=as_of.isoformat(),
                    **counts,
                )
            return t(
                "Sweep as of {day}: {opened} opened, {raised} raised, {resolved} resolved, "
                "{unchanged} unchanged",
                day=as_of.isoformat(),
                **counts,
            )

        title = t("Previewing the sweep…") if dry_run else t("Running the sweep…")
        screen = ProgressScreen(title, job, describe, write=not dry_run)
        self.push_screen(screen, None if dry_run else self._after_job)

    def action_import_file(self) -> None:
        from duban.core.plugins import get_host

        from .screens.forms import ImportForm

        kinds = [
            ("Plan (document or division-of-work table)", "plan"),
            ("Obligations (JSONL export)", "obligations"),
            ("Readings (CSV or XLSX)", "measurements"),
        ]
        kinds += [(imp.name_en, key) for key, imp in sorted(get_host().importers().items())]
        self.push_screen(ImportForm(kinds=kinds), self._run_import)

    def _run_import(self, chosen: Any) -> None:
        if not chosen:
            return
        import inspect

        from .screens.progress import ProgressScreen

        kind, path = chosen
        if kind == "plan":
            self._preview_plan(path)
            return

        def job(session: Any, progress: Any) -> Any:
            if kind == "obligations":
                from duban.core.services.transfer import import_obligations as run
            elif kind == "measurements":
                from duban.core.services.measurements import import_measurements as run
            else:
                from duban.core.plugins import get_host

                return get_host().importers()[kind].run(session=session, path=path, dry_run=False)
            extra = (
                {"progress": progress} if "progress" in inspect.signature(run).parameters else {}
            )
            return run(session=session, path=path, **extra)

        def describe(summary: Any) -> str:
            return ", ".join(
                f"{k}: {v}" for k, v in dict(summary).items() if not isinstance(v, list | dict)
            )

        self.push_screen(
            ProgressScreen(t("Importing {path}…", path=path.name), job, describe), self._after_job
        )

    def _preview_plan(self, path: Any) -> None:
        """A plan is shown as read before anything is written; YAML plans load as they are."""
        from duban.core.errors import UserError
        from duban.core.planparse import parse_file, summarize
        from duban.core.services.plans import plan_reference, read_plan_file

        from .screens.preview import PlanPreview
        from .screens.progress import ProgressScreen

        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                data, unparsed = read_plan_file(path), []
            else:
                result = parse_file(path, reference=plan_reference())
                data, unparsed = result.data, result.unparsed
        except UserError as exc:
            self.notify(str(exc), severity="error")
            return

        def job(session: Any, progress: Any) -> Any:
            from duban.core.services.plans import import_parsed_plan

            plan, created = import_parsed_plan(session=session, data=data, source=str(path))
            return plan.title, len(data.get("tasks") or []), len(created)

        def describe(done: tuple[str, int, int]) -> str:
            return t(
                "Imported {title}: {tasks} tasks, {owners} new owners",
                title=done[0],
                tasks=done[1],
                owners=done[2],
            )

        def confirmed(go: bool | None) -> None:
            if go:
                self.push_screen(
                    ProgressScreen(t("Importing {path}…", path=path.name), job, describe),
                    self._after_job,
                )

        self.push_screen(PlanPreview(path.name, summarize(data, unparsed)), confirmed)

    async def _after_job(self, result: Any) -> None:
        if result is not None:
            await self.changed()

    # Textual's own words (the palette's system commands and prompt), in the current language.
    def get_system_commands(self, screen: Any) -> Any:
        for command in super().get_system_commands(screen):
            yield command._replace(title=t(command.title), help=t(command.help))

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=t("Search for commands…"))
            )

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def report_error(self, message: str) -> None:
        self.notify(message, title=t("error"), severity="error", timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state in (WorkerState.PENDING, WorkerState.RUNNING):
            self._active_workers.add(event.worker)
        else:
            self._active_workers.discard(event.worker)
        self.busy = len(self._active_workers)

    def watch_busy(self) -> None:
        self.refresh_status()


def create_app(
    env: Env,
    *,
    as_of: date | None = None,
    lang: str | None = None,
    theme: str = "duban-dark",
    early: Future[dict[str, Any]] | None = None,
) -> DubanApp:
    """The app on ``env``'s database; the console script and the tests both start here.
    ``early`` is ``overview.prefetch``'s reading of the first screen, if one was begun."""
    return DubanApp(env, as_of=as_of, lang=lang, theme=theme, early=early)


def run(env: Env, *, early: Future[dict[str, Any]] | None = None) -> None:
    create_app(env, early=early).run()
