"""Chat robots (WeCom, DingTalk, Feishu) and plain JSON webhooks: the body each platform
expects, cut to its size limit, signed with the robot's own secret, and its answer read as
the platform documents it: delivered only on ``errcode``/``code`` 0.

Bodies: WeCom ``markdown`` (at most 4,096 bytes; overdue and escalated titles in the warning
colour), DingTalk ``markdown`` with ``at.atMobiles``, Feishu an interactive card (red header
when overdue, orange when escalated). ``split_message`` cuts a long digest into parts that
each fit, between lines, never inside a character.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..contributions import Message
from ..errors import UserError
from ..i18n import t
from ..settings import get_settings
from .settings import config_number
from .transport import DeliveryError, RateLimited, http_client

if TYPE_CHECKING:
    import httpx

    from ..models import Owner

PRESETS = ("json", "wecom", "dingtalk", "feishu")
ROBOTS = ("wecom", "dingtalk", "feishu")
WEBHOOK_DEFAULTS: dict[str, Any] = {
    "timeout": 10,
    "secret": "",  # or DUBAN_WEBHOOK_SECRET; empty: unsigned (a robot's own secret wins)
    "signature_header": "X-Duban-Signature",
    "template": {},  # body of the "json" preset; empty: the default body
    # Posts a minute per robot URL (0: no limit); the platforms refuse more than 20.
    "per_minute": {"wecom": 20, "dingtalk": 20, "feishu": 20, "json": 0},
    # A pass waits this long at most for a robot's next turn; later posts go at a later pass.
    "pace_wait": 300,
}
# Bytes of message text each platform takes (WeCom's documented 4,096; DingTalk's and
# Feishu's 20 KB request bodies, with room for the JSON around the text).
LIMITS = {"wecom": 4096, "dingtalk": 18000, "feishu": 18000}
# The answers that mean "too many messages": hold off and send again, nothing was taken.
RATE_CODES = {"wecom": {45009}, "dingtalk": {130101}, "feishu": {9499, 11232}}
_RETRY_AFTER = 60.0
_PART_ROOM = len(b" (99/99)")


@dataclass(frozen=True)
class WebhookSettings:
    timeout: float
    file_secret: str  # [webhook] secret
    header: str
    template: Mapping[str, Any] = field(default_factory=dict)
    per_minute: Mapping[str, int] = field(default_factory=dict)
    pace_wait: float = 300.0

    @property
    def secret(self) -> str:
        """``DUBAN_WEBHOOK_SECRET`` when set (read when a message is sent), else the file's."""
        return os.environ.get("DUBAN_WEBHOOK_SECRET") or self.file_secret


@dataclass(frozen=True)
class Robot:
    """One of an owner's robots, as a delivery needs it."""

    url: str
    preset: str
    secret: str | None = None
    mentions: tuple[str, ...] = ()


_FIELDS = (
    "key",
    "subject",
    "text",
    "html",
    "occasion",
    "kind",
    "lang",
    "recipient",
    "title",
    "code",
    "due",
)


def _fields(message: Message) -> dict[str, Any]:
    data = message.data
    values = {name: "" if data.get(name) is None else str(data.get(name)) for name in _FIELDS}
    values.update(subject=message.subject, text=message.text, html=message.html or "")
    return values


def _fill(node: Any, values: Mapping[str, Any], data: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        return dict(data) if node == "{data}" else node.format_map(values)
    if isinstance(node, Mapping):
        return {k: _fill(v, values, data) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values, data) for v in node]
    return node


def webhook_settings(raw: Mapping[str, Any]) -> WebhookSettings:
    """``[webhook]`` (``raw``) over the defaults, checked."""
    cfg = {**WEBHOOK_DEFAULTS, **raw}
    template = cfg["template"]
    if not isinstance(template, dict):
        raise UserError(
            t("duban.toml [webhook.template]: expected a table, not {value!r}", value=template)
        )
    try:
        _fill(template, dict.fromkeys(_FIELDS, ""), {})
    except (KeyError, ValueError, IndexError) as exc:
        raise UserError(
            t(
                "duban.toml [webhook.template]: unknown placeholder {name}; use {{data}} "
                "or one of {choices}",
                name=exc,
                choices=", ".join(_FIELDS),
            )
        ) from None
    per_minute = cfg["per_minute"]
    if not isinstance(per_minute, dict) or set(per_minute) - set(PRESETS):
        raise UserError(
            t(
                "duban.toml [webhook.per_minute]: expected a number per preset ({choices}), "
                "not {value!r}",
                choices=", ".join(PRESETS),
                value=per_minute,
            )
        )
    per_minute = {**WEBHOOK_DEFAULTS["per_minute"], **per_minute}
    for preset, value in per_minute.items():
        config_number("webhook.per_minute", preset, value, integer=True)
    return WebhookSettings(
        timeout=config_number("webhook", "timeout", cfg["timeout"], minimum=0.1),
        file_secret=str(cfg["secret"]),
        header=str(cfg["signature_header"]),
        template=template,
        per_minute=per_minute,
        pace_wait=config_number("webhook", "pace_wait", cfg["pace_wait"]),
    )


# Bodies -----------------------------------------------------------------------------------
def _lines(message: Message) -> list[tuple[str, str]]:
    if "lines" not in message.data:  # a plugin's or an older message: its text as it is
        return [("", message.text.strip())]
    return [(str(k), str(v)) for k, v in message.data["lines"]]


def _markdown(preset: str, message: Message, mentions: Sequence[str]) -> str:
    """The message as the platform's markdown (Feishu: its card's text, without the title)."""
    sep = ": " if message.data.get("lang") == "en" else "："
    severity = message.data.get("severity")
    rows = []
    for key, value in _lines(message):
        if value.startswith(("https://", "http://")):
            value = f"[{value}]({value})"
        rows.append(f"**{key}**{sep}{value}" if key else value)
    if preset == "wecom":
        title = message.subject
        if severity in ("overdue", "escalated"):
            title = f'<font color="warning">{title}</font>'
        text = "\n".join([f"### {title}", *(f"> {row}" for row in rows)])
        return text + ("\n" + " ".join(f"<@{m}>" for m in mentions) if mentions else "")
    if preset == "dingtalk":
        text = "\n\n".join([f"### {message.subject}", *(f"- {row}" for row in rows)])
        return text + ("\n\n" + " ".join(f"@{m}" for m in mentions) if mentions else "")
    text = "\n".join(rows)
    return text + ("\n" + " ".join(f"<at id={m}></at>" for m in mentions) if mentions else "")


def _size(preset: str, message: Message, mentions: Sequence[str]) -> int:
    extra = len(message.subject.encode()) if preset == "feishu" else 0
    return len(_markdown(preset, message, mentions).encode()) + extra


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` bytes of UTF-8, ending on a whole character."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: max(limit - 3, 0)].decode(errors="ignore") + "…"


def split_message(preset: str, message: Message, mentions: Sequence[str] = ()) -> list[Message]:
    """The message as one or more messages that each fit the platform's limit, split between
    lines; a part's subject ends in "(i/n)"."""
    limit = LIMITS.get(preset)
    if not limit or _size(preset, message, mentions) <= limit:
        return [message]
    room = limit - _PART_ROOM
    head = _size(preset, replace(message, data={**message.data, "lines": []}), mentions)
    line_room = max(room - head - 64, 64)  # a line alone, with its label, always fits
    parts: list[list[tuple[str, str]]] = [[]]
    for key, value in _lines(message):
        line = (key, _cut(value, line_room))
        trial = replace(message, data={**message.data, "lines": [*parts[-1], line]})
        if parts[-1] and _size(preset, trial, mentions) > room:
            parts.append([line])
        else:
            parts[-1].append(line)
    sep = ": " if message.data.get("lang") == "en" else "："
    return [
        replace(
            message,
            subject=f"{message.subject} ({i}/{len(parts)})",
            text="\n".join(f"{k}{sep}{v}" if k else v for k, v in lines) + "\n",
            html=None,
            data={**message.data, "lines": lines, "part": f"{i}/{len(parts)}"},
        )
        for i, lines in enumerate(parts, 1)
    ]


def webhook_body(
    preset: str, message: Message, cfg: WebhookSettings, mentions: Sequence[str] = ()
) -> dict[str, Any]:
    """The JSON body: a robot's rich message for the presets, the template for ``json``."""
    if preset in ROBOTS:
        text = _markdown(preset, message, mentions)
        # A message over the limit is cut (digests are split before, see split_message).
        title = len(message.subject.encode()) if preset == "feishu" else 0
        text = _cut(text, LIMITS[preset] - title)
    if preset == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if preset == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": text},
            "at": {"atMobiles": list(mentions), "isAtAll": False},
        }
    if preset == "feishu":
        colour = {"overdue": "red", "escalated": "orange"}.get(
            str(message.data.get("severity")), "blue"
        )
        return {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": message.subject},
                    "template": colour,
                },
                "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}],
            },
        }
    if cfg.template:
        return _fill(cfg.template, _fields(message), message.data)
    return {
        "key": message.data.get("key"),
        "subject": message.subject,
        "text": message.text,
        "occasion": message.data.get("occasion"),
        "kind": message.data.get("kind"),
        "lang": message.data.get("lang"),
        "data": dict(message.data),
    }


# Signatures -------------------------------------------------------------------------------
def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``timestamp.body``: receivers recompute it with the
    shared secret and reject stale timestamps (replays)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk robot "加签": base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu robot "签名校验": base64 HMAC-SHA256 keyed by "timestamp\\nsecret", empty message."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


# Sending ----------------------------------------------------------------------------------
def send_webhook(message: Message, owner: Owner | None, robot: Robot | None = None) -> None:
    """Post one message to one of the owner's robots (``robot``: the ledger row's)."""
    import httpx

    if robot is None:
        raise DeliveryError(
            t(
                "{owner}: no webhook URL (duban owner set NAME --webhook ...)",
                owner=owner.name if owner else "?",
            )
        )
    cfg = get_settings().webhook
    body = webhook_body(robot.preset, message, cfg, robot.mentions)
    secret = robot.secret or cfg.secret
    # Receivers compare signature timestamps with their own clock: this must be real time.
    now = time.time()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": str(message.data.get("key", "")),
    }
    url = httpx.URL(robot.url)
    if secret and robot.preset == "dingtalk":
        stamp = str(int(now * 1000))
        url = url.copy_merge_params({"timestamp": stamp, "sign": dingtalk_sign(secret, stamp)})
    elif secret and robot.preset == "feishu":
        stamp = str(int(now))
        body = {"timestamp": stamp, "sign": feishu_sign(secret, stamp), **body}
    raw = json.dumps(body, ensure_ascii=False).encode()
    if secret:
        stamp = str(int(now))
        headers["X-Duban-Timestamp"] = stamp
        headers[cfg.header] = sign(secret, stamp, raw)
    client = http_client()
    if client is None:
        with httpx.Client() as own:
            response = own.post(url, content=raw, headers=headers, timeout=cfg.timeout)
    else:
        response = client.post(url, content=raw, headers=headers, timeout=cfg.timeout)
    check_answer(robot.preset, response)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "")), 1.0)
    except ValueError:
        return _RETRY_AFTER


def check_answer(preset: str, response: httpx.Response) -> None:
    """Raise unless the answer is the platform's documented success: for robots, JSON with
    ``errcode``/``code`` 0 (a 200 page from a proxy or captive portal is not delivery)."""
    status = response.status_code
    if status == 429:
        raise RateLimited(f"HTTP 429: {response.text[:200]}", _retry_after(response))
    if status >= 300:
        raise DeliveryError(f"HTTP {status}: {response.text[:200]}")
    if preset not in ROBOTS:
        return
    try:
        answer = response.json()
    except ValueError:
        answer = None
    codes = (
        [answer[k] for k in ("errcode", "code", "StatusCode") if k in answer]
        if isinstance(answer, dict)
        else []
    )
    if not codes:
        kind = response.headers.get("Content-Type", "?")
        raise DeliveryError(
            f"{preset}: HTTP {status} {kind} is not the robot's answer: {response.text[:200]}"
        )
    code = next((c for c in codes if c != 0), 0)
    if code:
        text = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        error = f"{preset} error {code}: {text}"
        if code in RATE_CODES[preset]:
            raise RateLimited(error, _RETRY_AFTER)
        raise DeliveryError(error)
