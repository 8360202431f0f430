"""One console for every thread: whole lines, prefixed with where they come from."""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from typing import TextIO


class Console:
    def __init__(self, stream: TextIO | None = None, *, timestamps: bool = True) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._timestamps = timestamps

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stdout

    def line(self, source: str, text: str) -> None:
        """One line `HH:MM:SS [source] text` (no prefix when source is empty)."""
        stamp = datetime.now().strftime("%H:%M:%S ") if self._timestamps else ""
        prefix = f"[{source}] " if source else ""
        with self._lock:
            try:
                self.stream.write(f"{stamp}{prefix}{text.rstrip()}\n")
                self.stream.flush()
            except (OSError, ValueError):  # the console went away (closed pipe at exit)
                pass

    def block(self, text: str) -> None:
        """Several lines, written together, unprefixed."""
        with self._lock:
            try:
                self.stream.write(text if text.endswith("\n") else text + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
