"""The console never prints a query value, and never hands a control character to the terminal."""

from __future__ import annotations

import io

import pytest

from local.console import Console, printable, safe_target


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("/api/users", "/api/users"),
        ("/api/login?password=hunter2", "/api/login?password=[REDACTED]"),
        ("/a?x=1&y=2&flag&empty=", "/a?x=[REDACTED]&y=[REDACTED]&flag&empty="),
        ("/a?token=abc=def", "/a?token=[REDACTED]"),
        ("/a?", "/a?"),
        ("/a/%1b%5B2J?q=%1b", "/a/%1b%5B2J?q=[REDACTED]"),
        ("/a\x1b[2J?\x07=1", "/a\\x1b[2J?\\x07=[REDACTED]"),
    ],
)
def test_safe_target(target: str, shown: str) -> None:
    assert safe_target(target) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, accents é, emoji \U0001f600", "plain text, accents é, emoji \U0001f600"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("bell\x07 cr\r lf\n tab\t del\x7f c1\x9b", "bell\\x07 cr\\x0d lf\\x0a tab\\x09 del\\x7f c1\\x9b"),
        ("bidi \u202egnp.exe", "bidi \\u202egnp.exe"),
    ],
)
def test_printable_escapes_control_characters(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_console_lines_are_escaped_whatever_their_source() -> None:
    stream = io.StringIO()
    console = Console(stream, timestamps=False)
    console.line("Fn:\x1b]0;title\x07", "handling /x\x1b[2J\r\nforged line")
    assert stream.getvalue() == "[Fn:\\x1b]0;title\\x07] handling /x\\x1b[2J\\x0d\\x0aforged line\n"
