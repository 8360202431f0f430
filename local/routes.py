"""HTTP API route selection, as API Gateway does it.

A request goes to the most specific matching route: literal path segments beat `{param}` segments,
which beat a greedy `{proxy+}`; a route for the request's method beats `ANY`; `$default` catches
what nothing else matches. `{proxy+}` needs at least one segment (`/items/{proxy+}` does not match
`/items`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from local.functions import HttpRoute

_PARAM = re.compile(r"^\{([A-Za-z0-9_.:-]+)\}$")
_GREEDY = re.compile(r"^\{([A-Za-z0-9_.:-]+)\+\}$")

_LITERAL, _PARAMETER, _GREEDY_KIND = 0, 1, 2


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Compiled:
    route: HttpRoute
    segments: tuple[tuple[int, str], ...]

    @property
    def specificity(self) -> tuple[int, tuple[int, ...], int]:
        kinds = tuple(kind for kind, _ in self.segments)
        return (_GREEDY_KIND in kinds, kinds, self.route.method == "ANY")


def _compile(route: HttpRoute) -> _Compiled:
    segments: list[tuple[int, str]] = []
    parts = [] if route.path == "$default" else route.path.strip("/").split("/")
    for index, part in enumerate(part for part in parts if part != ""):
        if greedy := _GREEDY.match(part):
            if index != len(parts) - 1:
                raise ValueError(f"{route.route_key}: a greedy {{name+}} must be the last segment")
            segments.append((_GREEDY_KIND, greedy.group(1)))
        elif param := _PARAM.match(part):
            segments.append((_PARAMETER, param.group(1)))
        else:
            segments.append((_LITERAL, part))
    return _Compiled(route, tuple(segments))


class Router:
    """The routes of every function, and the choice among them for a request."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        self._routes: list[_Compiled] = []
        self._default: HttpRoute | None = None
        self.duplicates: list[HttpRoute] = []
        seen: set[str] = set()
        for route in routes:
            if route.route_key in seen:
                self.duplicates.append(route)
                continue
            seen.add(route.route_key)
            if route.path == "$default":
                self._default = route
            else:
                self._routes.append(_compile(route))
        self._routes.sort(key=lambda compiled: compiled.specificity)

    @property
    def routes(self) -> list[HttpRoute]:
        listed = [compiled.route for compiled in self._routes]
        return [*listed, self._default] if self._default else listed

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route for `method path` (path already percent-decoded), or None (API Gateway's 404)."""
        parts = [part for part in path.split("/") if part != ""]
        method = method.upper()
        for compiled in self._routes:  # sorted most specific first
            if compiled.route.method not in ("ANY", method):
                continue
            params = _match_segments(compiled.segments, parts)
            if params is not None:
                return RouteMatch(compiled.route, params)
        if self._default is not None:
            return RouteMatch(self._default, {})
        return None


def _match_segments(segments: tuple[tuple[int, str], ...], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, (kind, value) in enumerate(segments):
        if kind == _GREEDY_KIND:
            rest = parts[index:]
            if not rest:
                return None
            params[value] = "/".join(rest)
            return params
        if index >= len(parts):
            return None
        if kind == _LITERAL:
            if parts[index] != value:
                return None
        else:
            params[value] = parts[index]
    return params if len(parts) == len(segments) else None
