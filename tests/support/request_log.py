"""The unit tests' half of the IAM contract's request log (local/request_recorder.py has the rest).

With ``AWS_REQUEST_LOG_DIR`` set (`make test` sets it), the plugin (tests/support/plugin.py) records
every AWS request the unit tests make *from inside a function's handler*: the handler on the call
stack names the function by its Powertools service name, as the template's
``POWERTOOLS_SERVICE_NAME`` does. Requests made outside a handler (fixtures creating tables,
tests calling a service directly) are not a function's and are not recorded. The local cloud's
function processes record their own requests (local/runtime.py), so integration tests feed the
same log.
"""

from __future__ import annotations

import os
import sys
from types import FrameType

from local import request_recorder

_HTTP_APP = os.path.join("backend", "http", "app.py")
_WORKER = os.path.join("backend", "jobs", "worker.py")
_SCHEDULED = os.path.join("backend", "jobs", "scheduled.py")
_AVATAR = os.path.join("backend", "jobs", "avatars.py")
_TITLE_PREFIX = "app-backend "  # backend.http.app.create_app titles each app "app-backend <name>"


def _function_of(frame: FrameType) -> str | None:
    code = frame.f_code
    if code.co_name != "handler":
        return None
    if code.co_filename.endswith(_WORKER):
        return "worker"
    if code.co_filename.endswith(_SCHEDULED):
        return "scheduled"
    if code.co_filename.endswith(_AVATAR):
        return "avatar"
    if code.co_filename.endswith(_HTTP_APP):
        asgi = frame.f_locals.get("asgi")  # the Mangum adapter the handler closes over
        title = str(getattr(getattr(asgi, "app", None), "title", ""))
        if title.startswith(_TITLE_PREFIX):
            return title.removeprefix(_TITLE_PREFIX)
    return None


def handler_on_stack() -> str | None:
    """The service name of the innermost function handler running on this thread, if any."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        found = _function_of(frame)
        if found is not None:
            return found
        frame = frame.f_back
    return None


def install_from_environment() -> bool:
    """Start recording when ``AWS_REQUEST_LOG_DIR`` is set; True when it is."""
    directory = os.environ.get(request_recorder.ENV_VAR)
    if not directory:
        return False
    request_recorder.install(directory, handler_on_stack, "unit")
    return True
