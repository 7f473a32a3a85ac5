"""duban.toml as one typed object (core/settings.py): read once per file, each section checked
when first read, in the one error style."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban.core.errors import UserError
from duban.core.settings import get_settings, reset_settings


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def write(text: str, name: str = "duban.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("DUBAN_CONFIG", str(path))
        return path

    yield write
    reset_settings()


def test_read_once_per_file_until_reset(config) -> None:
    path = config("[calendar]\nalarm_hour = 8\n")
    first = get_settings()
    assert first.calendar.alarm_hour == 8 and first.path == path
    path.write_text("[calendar]\nalarm_hour = 7\n", encoding="utf-8")
    assert get_settings() is first  # the same file is not read again
    config("[calendar]\nalarm_hour = 6\n", "other.toml")
    assert get_settings().calendar.alarm_hour == 6  # another file is
    config("[calendar]\nalarm_hour = 7\n")
    assert get_settings() is first
    reset_settings()
    assert get_settings().calendar.alarm_hour == 7


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nothing"))
    settings = get_settings()
    assert settings.path is None
    assert settings.escalation.days == 30 and settings.escalation.levels == {"summon"}
    assert settings.notice.min_level == "list"
    assert settings.plugins.hook_timeout == 5.0
    assert settings.calendar.base_url == "http://127.0.0.1:8765"
    assert settings.reminder_policy()["lead"] == [30, 7, 1, 0]


def test_a_bad_section_stops_only_what_reads_it(config) -> None:
    config('[escalation]\nfollow_up_days = 0\n[notice]\nmin_level = "summon"\n[odd]\nx = 1\n')
    settings = get_settings()
    assert settings.notice.min_level == "summon"
    with pytest.raises(UserError, match=r"^duban.toml \[escalation\] follow_up_days: "):
        settings.escalation  # noqa: B018
    with pytest.raises(UserError, match=r"^duban.toml \[calendar\] alarm_hour: must be a number"):
        config('[calendar]\nalarm_hour = "nine"\n', "bad.toml")
        get_settings().calendar  # noqa: B018


def test_rules_and_plugin_tables_over_their_defaults(config) -> None:
    config('[rules."x.rule"]\nlist = 20\n[water]\ntarget = 1\n[reminders.water]\nlead = [3]\n')
    settings = get_settings()
    assert settings.rule("x.rule", {"list": 10, "summon": 40}) == {"list": 20, "summon": 40}
    assert settings.rule("y.rule", {"list": 10}) == {"list": 10}
    assert settings.table("water") == {"target": 1}
    assert settings.table("waste") == {}

    class Water:
        domain = "water"

    assert settings.reminder_policy(Water())["lead"] == [3]
    assert settings.reminder_policy()["lead"] == [30, 7, 1, 0]


def test_credentials_come_from_the_environment_when_used(
    config, monkeypatch: pytest.MonkeyPatch
) -> None:
    config('[webhook]\nsecret = "from-file"\n')
    webhook, smtp = get_settings().webhook, get_settings().smtp
    assert webhook.secret == "from-file" and smtp.user is None
    monkeypatch.setenv("DUBAN_WEBHOOK_SECRET", "from-env")
    monkeypatch.setenv("DUBAN_SMTP_USER", "mailer")
    assert webhook.secret == "from-env" and smtp.user == "mailer"


def test_commands_carry_the_settings(config) -> None:
    from duban.core.cli.context import Env

    config("[document]\nissuer = '省督办办'\n")
    env = Env.create(db_url=None, actor=None, as_of=None)
    assert env.settings is get_settings()
    assert env.settings.document.issuer == "省督办办"
