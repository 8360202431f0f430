"""One console for every thread: whole lines, prefixed with where they come from.

What reaches the console may come from a request (a path, a header, a function's output), so
every line is made printable: control characters (ESC, CR, BEL, C1 codes, bidi overrides...)
are shown escaped (``\\x1b``) instead of reaching the terminal, where they would be escape
sequences. Request targets are shown with their query values redacted (``safe_target``).
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from typing import TextIO

REDACTED = "[REDACTED]"


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\x1b``, ``\\u202e``...)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_target(target: str) -> str:
    """A request target fit for the console: query values redacted (keys kept), characters escaped.

    ``/api/users?password=hunter2&page=2`` → ``/api/users?password=[REDACTED]&page=[REDACTED]``.
    """
    path, separator, query = target.partition("?")
    if separator and query:
        parts = []
        for part in query.split("&"):
            key, equals, value = part.partition("=")
            parts.append(f"{key}={REDACTED}" if equals and value else part)
        path = f"{path}?{'&'.join(parts)}"
    elif separator:
        path += "?"
    return printable(path)


class Console:
    def __init__(self, stream: TextIO | None = None, *, timestamps: bool = True) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._timestamps = timestamps

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stdout

    def line(self, source: str, text: str) -> None:
        """One line `HH:MM:SS [source] text` (no prefix when source is empty), made printable."""
        stamp = datetime.now().strftime("%H:%M:%S ") if self._timestamps else ""
        prefix = f"[{printable(source)}] " if source else ""
        with self._lock:
            try:
                self.stream.write(f"{stamp}{prefix}{printable(text.rstrip())}\n")
                self.stream.flush()
            except (OSError, ValueError):  # the console went away (closed pipe at exit)
                pass

    def block(self, text: str) -> None:
        """Several lines, written together, unprefixed (the local cloud's own text: not escaped)."""
        with self._lock:
            try:
                self.stream.write(text if text.endswith("\n") else text + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
