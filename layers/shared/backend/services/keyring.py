"""The token-signing keys this container accepts: the current one and the one before rotation.

Keys come from Secrets Manager through ``backend.config`` (Powertools parameters, cached). A token
whose ``kid`` matches neither may have been signed by a container that already saw a rotation this
one has not: the current key is then re-read, at most once per ``REFRESH_INTERVAL`` so that forged
``kid`` values cannot make every request call Secrets Manager.
"""

from __future__ import annotations

import threading
import time
from typing import Final

from backend import config
from backend.services.tokens import SigningKey, signing_key

REFRESH_INTERVAL: Final = 30.0


class Keyring:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_refresh = 0.0

    def current(self) -> SigningKey:
        return signing_key(config.get_token_signing_key())

    def key_for(self, kid: str) -> SigningKey | None:
        current = self.current()
        if current.kid == kid:
            return current
        previous_secret = config.get_previous_token_signing_key()
        if previous_secret is not None and (previous := signing_key(previous_secret)).kid == kid:
            return previous
        with self._lock:
            if time.monotonic() - self._last_refresh < REFRESH_INTERVAL:
                return None
            self._last_refresh = time.monotonic()
        fresh = signing_key(config.get_token_signing_key(force_fetch=True))
        return fresh if fresh.kid == kid else None
