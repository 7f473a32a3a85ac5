"""The scheduler sends the audit head to the coordinators once a day, so that witnesses of
the chain exist outside the database."""

from __future__ import annotations

from datetime import date

from duban.core.testing import Runner

from .test_scheduler import _run_until


def test_the_daily_sweep_sends_the_audit_head_to_coordinators(world, receiver) -> None:
    from duban.core.scheduler import Scheduler
    from duban.core.services.users import add_user

    world.owner("督查室", webhook=f"{receiver.url}/witness")
    with world.session() as s:
        add_user(session=s, name="zhang", role="coordinator", owner="督查室")
    world.at(date(2025, 7, 10), hour=9)
    app = Scheduler(engine=world.env.engine, clock=world.clock, actor="coord", worker="w-1")
    _run_until(app, lambda: app.sweeps and receiver.delivered("/witness"))
    [hit] = receiver.delivered("/witness")
    witness = hit.json()["data"]["witness"]
    seq, digest = witness.split(":")
    assert digest in hit.body.decode()
    runner = Runner(world.env.url)
    assert runner("audit", "verify", "--witness", witness).exit_code == 0
    # The same day again: not sent twice.
    with world.session() as s:
        from duban.core.services.witness import queue_audit_head

        assert queue_audit_head(session=s) == 0
    assert int(seq) >= 1
