"""What the TUI tests share: the seeded campaign, and driving the app with Textual's pilot.

The campaign is the built-in Hunan plan as of 2024-06-01, with a reading, a sweep, a hand
escalation, a submitted close-out, a two-item rectification ledger and an inbox message,
all made through the real CLI.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from duban.core.cli.context import Env
from duban.core.models import Notification
from duban.core.testing import Runner, login_url

AS_OF = "2024-06-01"
LEDGER = """序号,问题描述,责任单位,整改时限,整改措施,整改进展
1,岳阳市部分化工企业雨污分流不到位，初期雨水直排。,岳阳市人民政府,2024年底前,实施雨污分流改造,已完成方案
2,益阳市大通湖总磷浓度居高不下。,益阳市人民政府,长期坚持,控制养殖尾水,
"""
SIZE = (120, 40)


def seed(url: str) -> None:
    run = Runner(url)
    run.ok("init", "--sandbox", as_of="2023-01-01")  # the plan, recorded long before
    run.ok("user", "add", "lead2", "--role", "coordinator", as_of=AS_OF)
    run.ok(
        "record",
        "water.county_drinking_source_compliance",
        "93.5",
        "--region",
        "430000",
        "--at",
        "2023",
        as_of=AS_OF,
    )
    run.ok("sweep", as_of=AS_OF)
    # by code: the built-in plan's parts come between its tasks' ids
    run.ok("escalate", "（七）", "--level", "list", "--reason", "整改进度滞后", as_of=AS_OF)
    run.ok(
        "submit",
        "（十）",
        "--evidence",
        "https://example.org/report.pdf",
        "--note",
        "done",
        as_of=AS_OF,
    )
    with tempfile.TemporaryDirectory() as folder:
        sheet = Path(folder) / "督察反馈问题.csv"
        sheet.write_text(LEDGER, encoding="utf-8")
        run.ok("ledger", "import", str(sheet), "--source", "中央生态环境保护督察", as_of=AS_OF)
    env = Env.create(db_url=url, actor="coord", as_of=AS_OF)
    with env.session() as session:
        # An in-app message as the reminder pass would deliver it (test data, not a code path).
        from duban.core.services.base import now

        session.add(
            Notification(
                key="test:inbox:1",
                channel="inbox",
                recipient="user:coord",
                subject="（七）深化工业污染治理 已逾期",
                occasion="overdue",
                status="delivered",
                payload={"obligation_id": 8},
                created_at=now(session),
                delivered_at=now(session),
            )
        )
    env.close()


def app_for(env: Env, lang: str = "en", actor: str | None = None):
    from duban.tui.app import create_app

    if actor:
        env = Env.create(db_url=login_url(env.db_url or "", actor), actor=actor, as_of=AS_OF)
    return create_app(env, lang=lang)


async def settle(pilot) -> None:
    """Wait until every worker is done and the screen has caught up: workers started by the
    messages of finished workers count too, so wait for several quiet rounds in a row, and
    for data tables to have measured their new rows (they do it when idle)."""
    from textual.widgets import DataTable

    quiet = 0
    for _ in range(60):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        busy = any(not w.is_finished for w in pilot.app.workers) or any(
            table._require_update_dimensions or table._updated_cells  # textual's own pending work
            for table in pilot.app.screen.query(DataTable)
        )
        quiet = 0 if busy else quiet + 1
        if quiet >= 4:
            break
    await pilot.pause()


def rows(app) -> list[dict]:
    from duban.tui.widgets.table import ObligationTable

    table = app.screen.query_one(ObligationTable)
    return [table.rows[i] for i in sorted(table.rows)]


async def fill(pilot, **values: str) -> None:
    """Fill a form's fields (inputs, choices, text areas) and submit it."""
    from textual.widgets import Input, Select, TextArea

    for name, value in values.items():
        widget = pilot.app.screen.query_one(f"#field-{name}")
        if isinstance(widget, Select):
            widget.value = value
        elif isinstance(widget, TextArea):
            widget.text = value
        else:
            assert isinstance(widget, Input)
            widget.value = value
    await pilot.press("ctrl+s")
    await settle(pilot)
