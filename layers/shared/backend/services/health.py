from __future__ import annotations

from backend.errors import UnavailableError
from backend.repositories import health as health_repository
from backend.schemas.health import HealthReport
from backend.settings import get_settings


def check() -> HealthReport:
    """The version and whether the table is reachable; raises UnavailableError when it is not."""
    settings = get_settings()
    if not health_repository.table_reachable():
        raise UnavailableError(
            "The data store is unreachable",
            details=[{"check": "table", "status": "unreachable"}],
        )
    return HealthReport(
        status="ok",
        version=settings.version,
        stage=settings.stage,
        service=settings.service,
        checks={"table": "ok"},
    )
