"""Transactional email templates. Values are HTML-escaped in the HTML part; a missing value fails."""

from __future__ import annotations

import html
from dataclasses import dataclass
from string import Template

from backend.errors import ValidationError


@dataclass(frozen=True)
class EmailTemplate:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


_LAYOUT = (
    '<!doctype html><html><body style="font-family:sans-serif;max-width:600px;margin:auto">'
    "$content"
    '<hr><p style="color:#888;font-size:12px">You receive this email because of activity on your account.</p>'
    "</body></html>"
)

TEMPLATES: dict[str, EmailTemplate] = {
    "welcome": EmailTemplate(
        subject="Welcome, $name!",
        text="Hi $name,\n\nYour account is ready. Sign in any time.\n",
        html="<h1>Welcome, $name!</h1><p>Your account is ready. Sign in any time.</p>",
    ),
    "verify-email": EmailTemplate(
        subject="Confirm your email address",
        text="Hi $name,\n\nConfirm this address within 24 hours by opening: $link\n\n"
        "If you did not create an account, ignore this email.\n",
        html='<p>Hi $name,</p><p><a href="$link">Confirm your email address</a> within 24 hours.</p>'
        "<p>If you did not create an account, ignore this email.</p>",
    ),
    "password-reset": EmailTemplate(
        subject="Reset your password",
        text="Hi $name,\n\nUse this link within 30 minutes to reset your password: $resetUrl\n\n"
        "If you did not ask for it, ignore this email: your password stays as it is.\n",
        html='<p>Hi $name,</p><p><a href="$resetUrl">Reset your password</a> within 30 minutes.</p>'
        "<p>If you did not ask for it, ignore this email: your password stays as it is.</p>",
    ),
    "password-changed": EmailTemplate(
        subject="Your password was changed",
        text="Hi $name,\n\nThe password of your account was just changed, and other devices were signed out.\n"
        "If this was not you, reset your password now and contact us.\n",
        html="<p>Hi $name,</p><p>The password of your account was just changed, and other devices were "
        "signed out.</p><p>If this was not you, reset your password now and contact us.</p>",
    ),
    "email-change": EmailTemplate(
        subject="Confirm your new email address",
        text="Hi $name,\n\nTo use $newEmail for your account, open this link within 24 hours: $link\n",
        html='<p>Hi $name,</p><p>To use <b>$newEmail</b> for your account, <a href="$link">confirm it</a> '
        "within 24 hours.</p>",
    ),
    "email-changed": EmailTemplate(
        subject="Your email address was changed",
        text="Hi $name,\n\nYour account now uses $newEmail; this address will get no more email from us.\n"
        "If this was not you, contact us at once.\n",
        html="<p>Hi $name,</p><p>Your account now uses <b>$newEmail</b>; this address will get no more "
        "email from us.</p><p>If this was not you, contact us at once.</p>",
    ),
    "order-confirmation": EmailTemplate(
        subject="Order $orderId confirmed",
        text="Hi $name,\n\nWe received your order $orderId (total $total). We will email you when it ships.\n",
        html="<p>Hi $name,</p><p>We received your order <b>$orderId</b> (total $total).</p>",
    ),
    "dlq-alert": EmailTemplate(
        subject="[$stage] $count message(s) waiting in dead-letter queues",
        text="Messages that failed every retry are waiting in: $queues\n\nInspect and redrive them.\n",
        html="<p>Messages that failed every retry are waiting in: <b>$queues</b>.</p><p>Inspect and redrive them.</p>",
    ),
}


def render(template_name: str, data: dict[str, str | int | float | bool]) -> RenderedEmail:
    try:
        template = TEMPLATES[template_name]
    except KeyError:
        raise ValidationError(f"Unknown email template {template_name!r}") from None
    text_values = {key: str(value) for key, value in data.items()}
    html_values = {key: html.escape(value, quote=True) for key, value in text_values.items()}
    try:
        # Subjects are single-line: newlines in values must not inject headers or lines.
        subject = Template(template.subject).substitute(text_values).replace("\r", " ").replace("\n", " ")
        text = Template(template.text).substitute(text_values)
        body = Template(_LAYOUT).substitute(content=Template(template.html).substitute(html_values))
    except KeyError as exc:
        raise ValidationError(f"Email template {template_name!r} needs a value for {exc.args[0]!r}") from None
    return RenderedEmail(subject=subject[:200], text=text, html=body)
