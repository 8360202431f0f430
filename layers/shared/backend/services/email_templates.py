"""Transactional email templates, each with a text and an HTML part.

Every value is HTML-escaped in the HTML part (a name ``<script>`` arrives as text), subjects stay on
one line, and a missing value fails the render (the job goes to the DLQ rather than out half-filled).
A template may have a table: ``rows`` names the list value (order lines, low-stock products) whose
entries fill ``row_text``/``row_html`` once each, and ``$rows`` places the result.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from string import Template

from backend.errors import ValidationError

type Scalar = str | int | float | bool
type TemplateData = Mapping[str, Scalar | Sequence[Mapping[str, Scalar]]]


@dataclass(frozen=True)
class EmailTemplate:
    """A template: subject and bodies with ``{placeholders}``."""

    subject: str
    text: str
    html: str
    #: The list value rendered as a table (None: the template has no table).
    rows: str | None = None
    row_text: str = ""
    row_html: str = ""


@dataclass(frozen=True)
class RenderedEmail:
    """An email ready to send: subject, text and HTML bodies."""

    subject: str
    text: str
    html: str


_LAYOUT = (
    '<!doctype html><html><body style="font-family:sans-serif;max-width:600px;margin:auto">'
    "$content"
    '<hr><p style="color:#888;font-size:12px">You receive this email because of activity on your account.</p>'
    "</body></html>"
)
_TABLE = '<table style="border-collapse:collapse;width:100%">$head$rows</table>'
_CELL = 'style="padding:4px 8px;border-bottom:1px solid #ddd'
_LINE_HEAD = (
    f'<tr><th {_CELL};text-align:left">Item</th><th {_CELL};text-align:right">Qty</th>'
    f'<th {_CELL};text-align:right">Unit price</th><th {_CELL};text-align:right">Amount</th></tr>'
)
_LINE_ROW_HTML = (
    f'<tr><td {_CELL}">$productName</td><td {_CELL};text-align:right">$quantity</td>'
    f'<td {_CELL};text-align:right">$unitPrice</td><td {_CELL};text-align:right">$lineTotal</td></tr>'
)
_LINE_ROW_TEXT = "  $quantity x $productName @ $unitPrice = $lineTotal\n"


def _lines_table(total_label: str) -> str:
    head = Template(_TABLE).safe_substitute(head=_LINE_HEAD)
    return head.replace(
        "</table>",
        f'<tr><td colspan="3" {_CELL};text-align:right"><b>{total_label}</b></td>'
        f'<td {_CELL};text-align:right"><b>$total</b></td></tr></table>',
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
        text=(
            "Hi $name,\n\nThank you for your order $orderId. We are preparing it and will email you "
            "when it ships.\n\n$rows\nTotal: $total\n"
        ),
        html=(
            "<p>Hi $name,</p><p>Thank you for your order <b>$orderId</b>. We are preparing it and will "
            "email you when it ships.</p>" + _lines_table("Total")
        ),
        rows="lines",
        row_text=_LINE_ROW_TEXT,
        row_html=_LINE_ROW_HTML,
    ),
    "order-shipped": EmailTemplate(
        subject="Order $orderId has shipped",
        text="Hi $name,\n\nYour order $orderId is on its way.\n\n$rows\nTotal: $total\n",
        html="<p>Hi $name,</p><p>Your order <b>$orderId</b> is on its way.</p>" + _lines_table("Total"),
        rows="lines",
        row_text=_LINE_ROW_TEXT,
        row_html=_LINE_ROW_HTML,
    ),
    "low-stock-digest": EmailTemplate(
        subject="[$stage] $count product(s) low on stock",
        text=(
            "Active products with fewer than $threshold in stock ($date):\n\n$rows$more\n"
            "Restock or deactivate them in the catalogue.\n"
        ),
        html=(
            "<p>Active products with fewer than <b>$threshold</b> in stock ($date):</p>"
            + Template(_TABLE).safe_substitute(
                head=f'<tr><th {_CELL};text-align:left">Product</th><th {_CELL};text-align:left">Id</th>'
                f'<th {_CELL};text-align:right">Stock</th></tr>'
            )
            + "<p>$more</p><p>Restock or deactivate them in the catalogue.</p>"
        ),
        rows="products",
        row_text="  $name ($productId): $stock left\n",
        row_html=(
            f'<tr><td {_CELL}">$name</td><td {_CELL}"><code>$productId</code></td>'
            f'<td {_CELL};text-align:right">$stock</td></tr>'
        ),
    ),
    "dlq-alert": EmailTemplate(
        subject="[$stage] $count message(s) waiting in dead-letter queues",
        text="Messages that failed every retry are waiting in: $queues\n\nInspect and redrive them.\n",
        html="<p>Messages that failed every retry are waiting in: <b>$queues</b>.</p><p>Inspect and redrive them.</p>",
    ),
}


def _text(value: object) -> str:
    return str(value)


def render(template_name: str, data: TemplateData) -> RenderedEmail:
    try:
        template = TEMPLATES[template_name]
    except KeyError:
        raise ValidationError(f"Unknown email template {template_name!r}") from None
    scalars = {key: value for key, value in data.items() if not isinstance(value, list | tuple)}
    text_values = {key: _text(value) for key, value in scalars.items()}
    html_values = {key: html.escape(value, quote=True) for key, value in text_values.items()}
    try:
        if template.rows is not None:
            rows = data.get(template.rows)
            if not isinstance(rows, list | tuple):
                raise KeyError(template.rows)
            text_values["rows"], html_values["rows"] = _render_rows(template, rows)
        # Subjects are single-line: newlines in values must not inject headers or lines.
        subject = Template(template.subject).substitute(text_values).replace("\r", " ").replace("\n", " ")
        text = Template(template.text).substitute(text_values)
        body = Template(_LAYOUT).substitute(content=Template(template.html).substitute(html_values))
    except KeyError as exc:
        raise ValidationError(f"Email template {template_name!r} needs a value for {exc.args[0]!r}") from None
    return RenderedEmail(subject=subject[:200], text=text, html=body)


def _render_rows(template: EmailTemplate, rows: Sequence[object]) -> tuple[str, str]:
    """The table's rows as text and as (escaped) HTML."""
    text_parts, html_parts = [], []
    for row in rows:
        if not isinstance(row, Mapping):
            raise ValidationError(f"Rows of {template.rows!r} must be objects")
        values = {key: _text(value) for key, value in row.items()}
        text_parts.append(Template(template.row_text).substitute(values))
        escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
        html_parts.append(Template(template.row_html).substitute(escaped))
    return "".join(text_parts), "".join(html_parts)
