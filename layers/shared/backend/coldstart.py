"""The garbage collector paused while a function initializes. Importing this module pauses it.

A function's initialization (its imports, the app, the AWS clients of its first request) creates
hundreds of thousands of objects that live as long as the container; while it runs, CPython's
collector keeps scanning them, generation after generation, and finds no garbage: about 8% of a cold
start's CPU here (docs/performance.md). So each function's entry point imports this module first:

    import backend.coldstart  # noqa: F401 - first: no garbage collection while initializing

and its handler calls :func:`end` after every invocation. The first call ends the pause:
``gc.freeze()`` moves everything alive then into the permanent generation (never scanned again, so
later full collections stay short too), and collection resumes. Later calls cost one comparison.

Only inside a Lambda sandbox (``AWS_LAMBDA_FUNCTION_NAME`` set: Lambda itself, the local cloud's
function processes, ``make bench``): a process that merely imports a function (tests, tools) keeps
its collector as it is. If initialization fails, Lambda discards the sandbox, pause included.
"""

from __future__ import annotations

import gc
import os
from typing import Literal

_state: Literal["idle", "paused", "done"] = "idle"


def begin() -> None:
    """Pause collection until :func:`end`, once per process, inside a Lambda sandbox only."""
    global _state  # noqa: PLW0603 - one pause per process
    if _state == "idle" and os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled():
        gc.disable()
        _state = "paused"


def end() -> None:
    """After an invocation: the first time, freeze what initialization made and resume collection."""
    global _state  # noqa: PLW0603 - one pause per process
    if _state == "done":
        return
    if _state == "paused":
        gc.freeze()
        gc.enable()
    _state = "done"


begin()
