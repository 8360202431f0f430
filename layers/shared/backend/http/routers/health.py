from __future__ import annotations

from fastapi import APIRouter

from backend.schemas.common import Envelope
from backend.schemas.health import HealthReport
from backend.services import health as health_service

router = APIRouter(tags=["health"])


@router.get(
    "/api/health",
    response_model=Envelope[HealthReport],
    summary="Liveness and dependency check (public)",
    responses={503: {"description": "The table is unreachable"}},
)
def get_health() -> Envelope[HealthReport]:
    return Envelope(data=health_service.check())
