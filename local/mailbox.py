"""The local mailbox: every email the emulated SES accepted, read from moto's backend in-process.

moto keeps one body per message: the HTML part when there is one, else the text part.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from typing import Any

_HTML_HINT = re.compile(
    r"<(!doctype|html|body|p|div|br|table|a|h[1-6]|span|strong|em|b|i|ul|ol|li|img)\b", re.I
)


@dataclass
class Mail:
    id: str
    timestamp: float
    source: str
    to: list[str]
    subject: str
    body: str
    html: bool
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    kind: str = "email"

    @property
    def time(self) -> str:
        return datetime.fromtimestamp(self.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "timestamp": self.timestamp,
            "from": self.source,
            "to": self.to,
            "cc": self.cc,
            "bcc": self.bcc,
            "subject": self.subject,
            "body": self.body,
            "html": self.html,
            "kind": self.kind,
        }


class _StampedList(list[Any]):
    """moto's list of sent messages, noting when each was appended."""

    def append(self, item: Any) -> None:
        with contextlib.suppress(AttributeError):  # a slotted object: the reader stamps it instead
            item.local_sent_at = time.time()
        super().append(item)


def looks_like_html(body: str) -> bool:
    return bool(_HTML_HINT.search(body))


def _addresses(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _from_raw(message_id: str, source: str, raw: str, sent_at: float) -> Mail:
    parsed = Parser(policy=policy.default).parsestr(raw)
    body, is_html = "", False
    if isinstance(parsed, EmailMessage):
        part = parsed.get_body(preferencelist=("html", "plain"))
        if part is not None and isinstance(part, EmailMessage):
            body = str(part.get_content())
            is_html = part.get_content_subtype() == "html"
    return Mail(
        id=message_id,
        timestamp=sent_at,
        source=str(parsed.get("From") or source),
        to=[str(parsed.get("To") or "")] if parsed.get("To") else [],
        cc=[str(parsed.get("Cc"))] if parsed.get("Cc") else [],
        subject=str(parsed.get("Subject") or ""),
        body=body,
        html=is_html,
        kind="raw",
    )


def to_mail(message: Any, sent_at: float) -> Mail:
    """A moto SES message (simple, raw or templated) as a Mail."""
    message_id = str(getattr(message, "id", "") or ",".join(getattr(message, "ids", []) or []))
    source = str(getattr(message, "source", ""))
    if hasattr(message, "raw_data"):
        return _from_raw(message_id, source, str(message.raw_data), sent_at)
    destinations = getattr(message, "destinations", None)
    to: list[str] = []
    cc: list[str] = []
    bcc: list[str] = []
    if isinstance(destinations, dict):
        to = _addresses(destinations.get("ToAddresses"))
        cc = _addresses(destinations.get("CcAddresses"))
        bcc = _addresses(destinations.get("BccAddresses"))
    elif isinstance(destinations, list):
        for destination in destinations:
            inner = destination.get("Destination", destination) if isinstance(destination, dict) else {}
            to.extend(_addresses(inner.get("ToAddresses")))
    if hasattr(message, "template"):
        data = str(getattr(message, "template_data", ""))
        return Mail(
            message_id,
            sent_at,
            source,
            to,
            f"(template {message.template})",
            data,
            False,
            cc,
            bcc,
            "template",
        )
    body = str(getattr(message, "body", "") or "")
    subject = str(getattr(message, "subject", "") or "")
    return Mail(message_id, sent_at, source, to, subject, body, looks_like_html(body), cc, bcc)


class Mailbox:
    """Reads (and stamps) the sent messages of every SES backend of the in-process emulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first_seen: dict[int, float] = {}

    def _backends(self) -> list[Any]:
        from moto.ses.models import ses_backends

        found = []
        for regions in list(ses_backends.values()):
            found.extend(list(regions.values()))
        return found

    def messages(self) -> list[Mail]:
        """Every accepted email, oldest first."""
        mails: list[Mail] = []
        with self._lock:
            for backend in self._backends():
                if not isinstance(backend.sent_messages, _StampedList):
                    backend.sent_messages = _StampedList(backend.sent_messages)
                for message in list(backend.sent_messages):
                    sent_at = getattr(message, "local_sent_at", None)
                    if sent_at is None:
                        sent_at = self._first_seen.setdefault(id(message), time.time())
                    mails.append(to_mail(message, float(sent_at)))
        mails.sort(key=lambda mail: mail.timestamp)
        return mails

    def watch(self) -> None:
        """Start stamping sends now (call once the SES backend exists)."""
        self.messages()

    def clear(self) -> int:
        with self._lock:
            count = 0
            for backend in self._backends():
                count += len(backend.sent_messages)
                del backend.sent_messages[:]
            return count


def mail_json(mails: list[Mail]) -> bytes:
    """The mailbox as JSON, newest first, like the page (``mails`` come oldest first)."""
    return json.dumps([mail.to_json() for mail in reversed(mails)]).encode()


def mail_html(mails: list[Mail]) -> str:
    """The mailbox page, newest first; every value escaped, HTML bodies in sandboxed iframes."""
    esc = html.escape
    items = []
    for mail in reversed(mails):
        rows = [("From", mail.source), ("To", ", ".join(mail.to))]
        if mail.cc:
            rows.append(("Cc", ", ".join(mail.cc)))
        if mail.bcc:
            rows.append(("Bcc", ", ".join(mail.bcc)))
        rows.append(("Date", mail.time))
        meta = "".join(f"<dt>{esc(name)}</dt><dd>{esc(value)}</dd>" for name, value in rows)
        if mail.html:
            body = f'<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{esc(mail.body, quote=True)}"></iframe>'
        else:
            body = f"<pre>{esc(mail.body)}</pre>"
        items.append(
            f'<article id="{esc(mail.id, quote=True)}"><h2>{esc(mail.subject) or "(no subject)"}</h2>'
            f"<dl>{meta}</dl>{body}</article>"
        )
    listing = "\n".join(items) or "<p>No email yet.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local mailbox ({len(mails)})</title>
<style>
body{{font-family:sans-serif;margin:2em;max-width:60em}} article{{border:1px solid #ccc;border-radius:6px;
padding:1em;margin:1em 0}} h2{{margin:0 0 .5em;font-size:1.1em}} dl{{display:grid;
grid-template-columns:max-content auto;gap:.2em 1em;margin:0 0 1em;color:#444}} dt{{font-weight:bold}}
dd{{margin:0}} pre{{white-space:pre-wrap;background:#f6f6f6;padding:1em}} iframe{{width:100%;height:24em;
border:1px solid #ddd}}
</style></head><body>
<h1>Local mailbox</h1>
<p>{len(mails)} email(s) accepted by the emulated SES, newest first.
<a href="/_local/mail">Refresh</a> · <a href="/_local/mail.json">JSON</a></p>
{listing}
</body></html>
"""
