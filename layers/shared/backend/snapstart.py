"""SnapStart: what must not be shared between execution environments restored from one snapshot.

With SnapStart (prod: template.yaml), Lambda runs a function's init phase once, when a version is
published, snapshots the memory of the initialized environment, and resumes every new execution
environment of that version from the snapshot. Whatever init left in memory is then identical in
every copy. The after-restore hook registered here makes each copy fresh again:

- ``random``: the module's generator was seeded once, at import; every copy would draw the same
  numbers. It is reseeded from the operating system (``secrets``, ``uuid4`` and the id generator's
  random bits read the OS on every call, so they need nothing).
- the id generator's monotonic state (``backend.models.ids``): two copies resumed in the same
  millisecond would otherwise increment the same random part and hand out the same ids.
- everything the composition root keeps, through its one reset (``backend.wiring.reset``, which the
  local cloud and the tests use too):

  - cached boto3 clients (``backend.aws``) and PynamoDB's shared table connection (``TableItem``):
    connections (and any credentials a client resolved) are made again by the copy that uses them;
  - the container (``backend.wiring.Container``): its members are rebuilt on first use, among them
    the keyring, whose refresh throttle counts time from before the snapshot, the read cache (its
    in-process entries and stamps were aged by a stopped clock), its Redis client (closed here: the
    connection did not survive), the idempotency stores and the email sender;
  - cached configuration and secrets (``backend.config``: Powertools parameters, the previous
    signing key): time-based, with ages counted from a clock that stood still while the snapshot
    was stored;
  - verified access tokens (``backend.services.tokens``): a copy starts with none, like any container;
  - the settings, read again from the environment (which every copy shares by design: the same
    values).

Nothing here imports what the function has not imported itself (beyond the light wiring module): a
reset of a module that was never loaded has nothing to reset. Python's hash seed cannot be changed
in a running process; it is shared by the copies of one snapshot.

Lambda's runtime provides ``snapshot_restore_py``; elsewhere :func:`register` does nothing and
tests call :func:`restore` directly.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable

_registered = False
_lock = threading.Lock()


def reseed_random() -> None:
    random.seed()  # from os.urandom


def reset_ids() -> None:
    ids = sys.modules.get("backend.models.ids")
    if ids is not None:
        ids.reset()


def reset_wiring() -> None:
    """Everything ``backend.wiring.reset`` resets: the container (closing its Redis connection, which
    did not survive the snapshot), clients and PynamoDB's connection, cached parameters and secrets,
    verified tokens. (The wiring module itself is light: settings and the clock, which every
    function has loaded by then.)"""
    from backend import wiring

    wiring.reset()


#: Run in this order after every restore.
AFTER_RESTORE: tuple[Callable[[], None], ...] = (reseed_random, reset_ids, reset_wiring)


def restore() -> None:
    """The after-restore hook: every reset above."""
    for hook in AFTER_RESTORE:
        hook()


def register() -> bool:
    """Register :func:`restore` with the runtime's SnapStart hooks, once per process.

    Returns whether the hooks are registered (False outside Lambda's runtime).
    """
    global _registered  # noqa: PLW0603 - one registration per process
    with _lock:
        if _registered:
            return True
        try:
            from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
        except ImportError:
            return False
        register_after_restore(restore)
        _registered = True
        return True


def _forget_registration() -> None:
    """Tests only: allow :func:`register` to run again."""
    global _registered  # noqa: PLW0603
    with _lock:
        _registered = False
