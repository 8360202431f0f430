from __future__ import annotations

from backend.http.routes import api_router
from backend.schemas.common import Envelope
from backend.schemas.health import HealthReport
from backend.services import health as health_service

router = api_router(tags=["health"])


@router.get(
    "/api/health",
    response_model=Envelope[HealthReport],
    summary="Liveness and dependency check (public)",
    responses={503: {"description": "The table is unreachable"}},
)
def get_health() -> Envelope[HealthReport]:
    return Envelope(data=health_service.check())
