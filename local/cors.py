"""The HTTP API's CorsConfiguration, applied by the gateway as API Gateway applies it.

With CORS configured, API Gateway answers preflight requests itself (the function never sees
them), ignores the CORS headers a function returns, and adds its own to responses for allowed
origins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.events import HttpRequest, HttpResponse


@dataclass(frozen=True)
class CorsConfig:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int | None = None

    @classmethod
    def from_template(cls, config: Any) -> CorsConfig | None:
        """From a resolved `CorsConfiguration` (SAM: a mapping, or `true` for allow-all)."""
        if config is True or config == "true":
            return cls(("*",), ("*",), ("*",))
        if not isinstance(config, dict):
            return None

        def items(name: str) -> tuple[str, ...]:
            value = config.get(name) or []
            return tuple(str(v) for v in (value if isinstance(value, list) else [value]))

        max_age = config.get("MaxAge")
        return cls(
            allow_origins=items("AllowOrigins"),
            allow_methods=items("AllowMethods"),
            allow_headers=items("AllowHeaders"),
            expose_headers=items("ExposeHeaders"),
            allow_credentials=config.get("AllowCredentials") in (True, "true"),
            max_age=None if max_age is None else int(max_age),
        )

    def allowed_origin(self, origin: str | None) -> str | None:
        if not origin:
            return None
        if "*" in self.allow_origins:
            return origin if self.allow_credentials else "*"
        return origin if origin in self.allow_origins else None

    @staticmethod
    def is_preflight(request: HttpRequest) -> bool:
        return (
            request.method.upper() == "OPTIONS"
            and request.header("origin") is not None
            and request.header("access-control-request-method") is not None
        )

    def preflight(self, request: HttpRequest) -> HttpResponse:
        response = HttpResponse(204)
        origin = self.allowed_origin(request.header("origin"))
        if origin is None:
            return response
        response.headers.append(("access-control-allow-origin", origin))
        if self.allow_methods:
            response.headers.append(("access-control-allow-methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            requested = request.header("access-control-request-headers")
            allowed = ",".join(self.allow_headers)
            response.headers.append(
                (
                    "access-control-allow-headers",
                    requested if "*" in self.allow_headers and requested else allowed,
                )
            )
        if self.allow_credentials:
            response.headers.append(("access-control-allow-credentials", "true"))
        if self.max_age is not None:
            response.headers.append(("access-control-max-age", str(self.max_age)))
        return response

    def apply(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Replace the function's CORS headers with the configured ones."""
        response.headers = [
            (k, v) for k, v in response.headers if not k.lower().startswith("access-control-")
        ]
        origin = self.allowed_origin(request.header("origin"))
        if origin is None:
            return response
        response.headers.append(("access-control-allow-origin", origin))
        if self.allow_credentials:
            response.headers.append(("access-control-allow-credentials", "true"))
        if self.expose_headers:
            response.headers.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        if origin != "*":
            response.headers.append(("vary", "origin"))
        return response
