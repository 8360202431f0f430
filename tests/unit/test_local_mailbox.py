"""The local mailbox: what the emulated SES accepted, listed safely."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local.mailbox import Mailbox, mail_html, mail_json


def send(subject: str, *, html: str | None = None, text: str | None = None) -> None:
    body: dict[str, Any] = {}
    if html is not None:
        body["Html"] = {"Data": html}
    if text is not None:
        body["Text"] = {"Data": text}
    ses: Any = boto3.client("ses")
    ses.send_email(
        Source="no-reply@example.com",
        Destination={"ToAddresses": ["ann@example.com"], "CcAddresses": ["cc@example.com"]},
        Message={"Subject": {"Data": subject}, "Body": body},
    )


def test_mailbox_lists_sent_email_oldest_first_with_times(aws: None) -> None:
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="no-reply@example.com")
    mailbox = Mailbox()
    mailbox.watch()
    send("Welcome", text="Hello Ann")
    send("<script>alert(1)</script>", html='<p>Click <a href="https://x.test">here</a></p>')
    ses.send_raw_email(
        Source="no-reply@example.com",
        Destinations=["bob@example.com"],
        RawMessage={
            "Data": "From: no-reply@example.com\nTo: bob@example.com\nSubject: Raw one\n"
            "Content-Type: text/plain\n\nraw body\n"
        },
    )
    mails = mailbox.messages()
    assert [mail.subject for mail in mails] == ["Welcome", "<script>alert(1)</script>", "Raw one"]
    welcome, html_mail, raw = mails
    assert welcome.to == ["ann@example.com"]
    assert welcome.cc == ["cc@example.com"]
    assert welcome.html is False
    assert welcome.body == "Hello Ann"
    assert html_mail.html is True
    assert raw.body.strip() == "raw body"
    assert raw.to == ["bob@example.com"]
    assert welcome.timestamp <= html_mail.timestamp <= raw.timestamp

    listed = json.loads(mail_json(mails))
    assert [mail["subject"] for mail in listed] == [
        "Raw one",
        "<script>alert(1)</script>",
        "Welcome",
    ]  # newest first
    assert listed[-1]["from"] == "no-reply@example.com"
    assert listed[-1]["to"] == ["ann@example.com"]
    assert listed[-1]["time"].endswith("Z")

    page = mail_html(mails)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="&lt;p&gt;Click &lt;a href=&quot;' in page
    assert page.index("Raw one") < page.index("Welcome")  # newest first on the page

    assert mailbox.clear() == 3
    assert mailbox.messages() == []
