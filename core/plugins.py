"""The plugin host: loads entry points of group ``duban`` and calls hooks in isolation.

pluggy stops at the first plugin that fails to import or raises in a hook. The host loads
each entry point on its own and calls each hook implementation on its own, so one broken
plugin is recorded (``duban plugins``) and skipped while the others keep working.

Every hook call runs on a worker thread under a time limit (``[plugins] hook_timeout``): a
call that overruns it is abandoned on its daemon thread, never joined, and its plugin is
marked failed like one that raised. Failures are also written to a small file in the user
state directory, so that ``duban plugins`` in another process reports them; a later
successful call of the same hook clears the record.
"""

from __future__ import annotations

import contextvars
import json
import math
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from operator import attrgetter
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .contributions import EscalationRule, Importer, Indicator, Label, Notifier, SiteKind
from .i18n import t
from .settings import get_settings

API_VERSION = (1, 2)
# Core's own contributions are plugins too, registered before any entry point.
DEFAULT_PLUGINS = ("duban.core.builtin",)


@dataclass
class PluginInfo:
    name: str
    version: str | None
    module: str
    status: str = "ok"  # ok | failed | disabled
    error: str | None = None
    builtin: bool = False
    hooks: list[str] = field(default_factory=list)


def _tracing() -> bool:
    return os.environ.get("DUBAN_TRACE_PLUGINS", "") not in ("", "0")


def _allow_list() -> set[str] | None:
    raw = os.environ.get("DUBAN_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _check_api(module: Any) -> str | None:
    """A plugin may declare ``DUBAN_API = (major, minor)``; refuse what we cannot honour."""
    wanted = getattr(module, "DUBAN_API", None)
    if wanted is None:
        return None
    try:
        major, minor = (int(part) for part in wanted)
    except (TypeError, ValueError):
        return f"DUBAN_API must be a (major, minor) pair, got {wanted!r}"
    if major != API_VERSION[0] or minor > API_VERSION[1]:
        have = ".".join(map(str, API_VERSION))
        return f"requires duban plugin API {major}.{minor}, this duban provides {have}"
    return None


class _Job:
    """One hook call handed to a worker thread."""

    __slots__ = ("args", "context", "done", "error", "function", "interrupted", "value")

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.function, self.args = function, args
        self.context = contextvars.copy_context()
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.interrupted = False

    def run(self) -> None:
        try:
            self.value = self.context.run(self.function, *self.args)
        except BaseException as exc:  # handed back to the caller, whatever it is
            self.error = exc
        finally:
            self.done.set()


_inside = threading.local()  # set on worker threads: a hook calling hooks runs them inline


def _work(inbox: queue.SimpleQueue[_Job]) -> None:
    _inside.worker = True
    while True:
        inbox.get().run()


class _Workers:
    """Daemon threads for hook calls. A thread whose call overran is left to its fate and
    replaced; the interpreter never waits for it on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[_Job]] = []
        self._pending: set[_Job] = set()
        self.stopping = False

    def run(self, job: _Job, timeout: float) -> bool:
        """Run ``job``; False if it did not finish within ``timeout`` or was interrupted."""
        if getattr(_inside, "worker", False):
            job.run()
            return True
        with self._lock:
            if self.stopping:
                job.interrupted = True
                return False
            inbox = self._idle.pop() if self._idle else None
            self._pending.add(job)
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=_work, args=(inbox,), name="duban-hook", daemon=True).start()
        inbox.put(job)
        finished = job.done.wait(None if math.isinf(timeout) else timeout)
        with self._lock:
            self._pending.discard(job)
            if finished and not job.interrupted:
                self._idle.append(inbox)
        return finished and not job.interrupted

    def interrupt(self) -> None:
        """Release every caller waiting on a hook and refuse new calls (shutting down)."""
        with self._lock:
            self.stopping = True
            pending, self._pending = self._pending, set()
        for job in pending:
            job.interrupted = True
            job.done.set()


_workers = _Workers()


def interrupt_hooks() -> None:
    """Stop waiting for plugins: a server shutting down must not wait for a hung hook."""
    _workers.interrupt()


def _failures_path() -> Path:
    from platformdirs import user_state_path

    return user_state_path("duban", appauthor=False) / "plugin-failures.json"


def _read_failures() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(_failures_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class PluginHost:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("duban")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._registries: dict[str, dict[str, Any]] = {}
        self.timeout = get_settings().plugins.hook_timeout
        # Failures other processes recorded: {plugin: {"version", "hook", "error"}}.
        self._recorded = _read_failures()
        self._record_lock = threading.Lock()

    # Loading -----------------------------------------------------------------------
    def load(self) -> None:
        import importlib

        allow = _allow_list()
        for module_name in DEFAULT_PLUGINS:
            self._register("core", importlib.import_module(module_name), None, builtin=True)
        for ep in sorted(entry_points(group="duban"), key=lambda e: e.name):
            if ep.name in self.plugins:
                continue
            version = ep.dist.version if ep.dist else None
            info = PluginInfo(ep.name, version, ep.value)
            if allow is not None and ep.name not in allow:
                info.status = "disabled"
                self.plugins[ep.name] = info
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not take duban down
                self._fail(info, exc)
                continue
            refusal = _check_api(module)
            if refusal:
                info.status, info.error = "failed", refusal
                self.plugins[ep.name] = info
                continue
            self._register(ep.name, module, version, module_path=ep.value)

    def _register(
        self,
        name: str,
        module: Any,
        version: str | None,
        *,
        builtin: bool = False,
        module_path: str | None = None,
    ) -> None:
        info = PluginInfo(name, version, module_path or module.__name__, builtin=builtin)
        try:
            self.pm.register(module, name=name)
        except Exception as exc:  # e.g. a hookimpl whose signature does not match its spec
            self._fail(info, exc)
            return
        info.hooks = sorted(
            hook.name
            for hook in self.pm.get_hookcallers(module) or ()
            if hook.name.startswith("duban_")
        )
        self.plugins[name] = info

    def reported(self, info: PluginInfo) -> PluginInfo:
        """``info`` as ``duban plugins`` shows it: failed if its last call of some hook, in
        this process or another, failed."""
        record = self._recorded.get(info.name)
        if info.status != "ok" or not record or record.get("version") != (info.version or ""):
            return info
        return replace(info, status="failed", error=record.get("error"))

    def register_module(self, name: str, module: Any) -> None:
        """Register a plugin object directly (tests, scripts embedding duban)."""
        self._register(name, module, None)
        self._registries.clear()

    def _fail(self, info: PluginInfo, exc: BaseException) -> None:
        info.status, info.error = "failed", _describe(exc)
        self.plugins[info.name] = info
        if _tracing():
            traceback.print_exception(exc, file=sys.stderr)

    # Calling -----------------------------------------------------------------------
    def _impls(self, hook_name: str) -> Iterator[Any]:
        hook = getattr(self.pm.hook, hook_name)
        # pluggy calls the last registered first; keep registration order instead.
        for impl in hook.get_hookimpls():
            info = self.plugins.get(impl.plugin_name)
            if info is not None and info.status == "ok":
                yield impl

    def call(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation; return (plugin, result) for those that did not raise."""
        results = []
        for impl in self._impls(hook_name):
            ok, value = self._call_one(hook_name, impl, kwargs)
            if ok and value is not None:
                results.append((impl.plugin_name, value))
        return results

    def first(self, hook_name: str, **kwargs: Any) -> Any:
        """Call implementations in order until one returns something other than None."""
        for impl in self._impls(hook_name):
            ok, value = self._call_one(hook_name, impl, kwargs)
            if ok and value is not None:
                return value
        return None

    def _call_one(self, hook_name: str, impl: Any, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        plugin = impl.plugin_name
        started = time.perf_counter()
        # Like pluggy: an implementation may accept any subset of the spec's arguments.
        job = _Job(impl.function, tuple(kwargs[name] for name in impl.argnames))
        finished = _workers.run(job, self.timeout)
        if _tracing():
            ms = (time.perf_counter() - started) * 1000
            print(f"[duban plugin] {hook_name} {plugin} {ms:.2f} ms", file=sys.stderr)
        if job.interrupted:
            return False, None
        if not finished:
            seconds = f"{self.timeout:g}"
            self._failed(
                plugin,
                hook_name,
                t("timed out in {hook} after {seconds} s", hook=hook_name, seconds=seconds),
            )
            return False, None
        if isinstance(job.error, Exception):
            self._failed(plugin, hook_name, f"{hook_name}: {_describe(job.error)}")
            if _tracing():
                traceback.print_exception(job.error, file=sys.stderr)
            return False, None
        if job.error is not None:  # KeyboardInterrupt, SystemExit: the caller's to handle
            raise job.error
        if self._recorded.get(plugin, {}).get("hook") == hook_name:
            self._record(plugin, None)
        return True, job.value

    def _failed(self, plugin: str, hook_name: str, error: str) -> None:
        info = self.plugins[plugin]
        info.status, info.error = "failed", error
        self._record(plugin, {"version": info.version or "", "hook": hook_name, "error": error})

    def _record(self, plugin: str, failure: dict[str, str] | None) -> None:
        """Write (or clear) ``plugin``'s last failure where other processes will see it."""
        if plugin not in self.plugins or self.plugins[plugin].builtin:
            return
        with self._record_lock:
            records = _read_failures()
            if failure is None:
                records.pop(plugin, None)
            else:
                records[plugin] = failure
            self._recorded = records
            path = _failures_path()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
                scratch.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
                scratch.replace(path)
            except OSError:  # a read-only home must not break the command itself
                pass

    # Registries --------------------------------------------------------------------
    def _collect(
        self, hook_name: str, kind: type, key: Callable[[Any], Any] = attrgetter("key")
    ) -> dict[Any, Any]:
        if hook_name not in self._registries:
            found: dict[str, Any] = {}
            for impl in self._impls(hook_name):
                items: list[Any] = []

                def register(item: Any, _items: list[Any] = items) -> None:
                    if not isinstance(item, kind):
                        raise TypeError(f"expected {kind.__name__}, got {type(item).__name__}")
                    _items.append(item)

                ok, _ = self._call_one(hook_name, impl, {"register": register})
                if ok:
                    for item in items:
                        found[key(item)] = _with_plugin(item, impl.plugin_name)
            self._registries[hook_name] = found
        return self._registries[hook_name]

    def indicators(self) -> dict[str, Indicator]:
        return self._collect("duban_register_indicators", Indicator)

    def rules(self) -> dict[str, EscalationRule]:
        return self._collect("duban_register_escalation_rules", EscalationRule)

    def site_kinds(self) -> dict[str, SiteKind]:
        return self._collect("duban_register_site_kinds", SiteKind)

    def importers(self) -> dict[str, Importer]:
        return self._collect("duban_register_importers", Importer)

    def notifiers(self) -> dict[str, Notifier]:
        return self._collect("duban_register_notifiers", Notifier)

    def labels(self) -> dict[tuple[str, str], Label]:
        """Every registered label by ``(kind, key)``."""
        return self._collect("duban_register_labels", Label, attrgetter("kind", "key"))

    def implementers(self, hook_name: str) -> list[str]:
        hook = getattr(self.pm.hook, hook_name, None)
        if hook is None:
            return []
        return [impl.plugin_name for impl in hook.get_hookimpls()]


def _with_plugin(item: Any, plugin: str) -> Any:
    return item if item.plugin else replace(item, plugin=plugin)


_host: PluginHost | None = None  # published only once loaded
_loading = threading.Lock()


def get_host() -> PluginHost:
    """The process-wide host, loaded on first use. Threads asking while it loads (the TUI's
    workers) wait for it rather than see some plugins and not others."""
    global _host
    host = _host
    if host is None:
        with _loading:
            if _host is None:
                loaded = PluginHost()
                loaded.load()
                _host = loaded
            host = _host
    return host


def reset_host() -> None:
    """Forget the loaded plugins (tests that change the environment)."""
    global _host
    _host = None
