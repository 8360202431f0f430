from __future__ import annotations

from typing import Literal

from backend.schemas.common import CamelModel


class HealthReport(CamelModel):
    status: Literal["ok"]
    version: str
    stage: str
    service: str
    checks: dict[str, Literal["ok", "unreachable"]]
