"""One OpenAPI 3.1 document for every API function, and the page that shows it at /docs.

Each function's `app.openapi()` contributes only the operations the gateway routes to that
function (a `/api/users/{proxy+}` route covers `/api/users/...`). Components are merged; a name two
functions define differently is prefixed with the function's logical id, and that function's
`$ref`s follow.
"""

from __future__ import annotations

import copy
import html
import importlib.util
import json
from pathlib import Path
from typing import Any

from local.routes import Router

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def merge_openapi(documents: dict[str, dict[str, Any]], router: Router, *, title: str) -> dict[str, Any]:
    """Merge function logical id → OpenAPI document into one document."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "local"},
        "paths": {},
        "components": {},
    }
    tags: dict[str, dict[str, Any]] = {}
    versions: list[str] = []
    descriptions: list[str] = []
    for function, original in documents.items():
        document = copy.deepcopy(original)
        info = document.get("info") or {}
        if info.get("version"):
            versions.append(str(info["version"]))
        descriptions.append(f"- **{function}**: {info.get('title', function)}")
        renames = _conflicting_components(merged["components"], document.get("components") or {}, function)
        if renames:
            document = _rename_components(_rewrite_refs(document, renames), renames)
        for section, entries in (document.get("components") or {}).items():
            if isinstance(entries, dict):
                merged["components"].setdefault(section, {}).update(entries)
        for path, item in (document.get("paths") or {}).items():
            kept = {
                method: operation
                for method, operation in item.items()
                if method in _METHODS and _routed_to(router, method, path, function)
            }
            if not kept:
                continue
            target = merged["paths"].setdefault(path, {})
            target.update({key: value for key, value in item.items() if key not in _METHODS})
            target.update(kept)
        for tag in document.get("tags") or []:
            tags.setdefault(str(tag.get("name")), tag)
    if versions and len(set(versions)) == 1:
        merged["info"]["version"] = versions[0]
    merged["info"]["description"] = "Every HttpApi route of the template, served by:\n\n" + "\n".join(
        descriptions
    )
    if tags:
        merged["tags"] = list(tags.values())
    if not merged["components"]:
        del merged["components"]
    return merged


def _routed_to(router: Router, method: str, path: str, function: str) -> bool:
    # A path template's `{param}` segment stands for any value: it is kept as the sample value, which
    # no literal route segment equals but `{param}` and `{proxy+}` routes accept.
    match = router.match(method.upper(), path)
    return match is not None and match.route.function == function


def _conflicting_components(
    target: dict[str, Any], components: dict[str, Any], function: str
) -> dict[str, str]:
    """`$ref` → new `$ref` for each component this function defines differently from an earlier one."""
    renames: dict[str, str] = {}
    for section, entries in components.items():
        if not isinstance(entries, dict):
            continue
        existing = target.get(section) or {}
        for name, value in entries.items():
            if name in existing and existing[name] != value:
                renames[f"#/components/{section}/{name}"] = f"#/components/{section}/{function}_{name}"
    return renames


def _rename_components(document: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    components = document.get("components") or {}
    for old, new in renames.items():
        section, old_name = old.rsplit("/", 2)[-2:]
        new_name = new.rsplit("/", 1)[-1]
        components[section][new_name] = components[section].pop(old_name)
    return document


def _rewrite_refs(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                renames.get(item, item)
                if key == "$ref" and isinstance(item, str)
                else _rewrite_refs(item, renames)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(item, renames) for item in value]
    return value


# ------------------------------------------------------------------------------------ /docs


def swagger_assets_dir() -> Path | None:
    """A Swagger UI bundle shipped by an installed package (Powertools ships one), if any."""
    spec = importlib.util.find_spec("aws_lambda_powertools")
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations))) / "event_handler" / "openapi" / "swagger_ui"
    if (directory / "swagger-ui-bundle.min.js").is_file() and (directory / "swagger-ui.min.css").is_file():
        return directory
    return None


CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

_FALLBACK_VIEWER = """
function renderFallback(spec) {
  const root = document.getElementById("swagger-ui");
  root.textContent = "";
  const h = (tag, text, cls) => { const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text; if (cls) el.className = cls; return el; };
  root.append(h("h1", (spec.info && spec.info.title) || "API"));
  root.append(h("p", "Swagger UI could not load (offline?): a plain list of the operations.", "note"));
  const table = h("table");
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get","put","post","delete","options","head","patch","trace"].includes(method)) continue;
      const row = h("tr");
      row.append(h("td", method.toUpperCase(), "method " + method), h("td", path, "path"),
                 h("td", op.summary || op.operationId || ""));
      table.append(row);
    }
  }
  root.append(table);
  const raw = h("a", "openapi.json"); raw.href = "/openapi.json"; root.append(raw);
}
"""


def docs_page(local_assets: bool) -> str:
    """The /docs page: Swagger UI (local assets when installed, else the CDN), with a plain fallback."""
    base = "/docs/assets" if local_assets else CDN
    js, css = (
        ("swagger-ui-bundle.min.js", "swagger-ui.min.css")
        if local_assets
        else ("swagger-ui-bundle.js", "swagger-ui.css")
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API docs (local cloud)</title>
<link rel="stylesheet" href="{html.escape(base)}/{css}">
<style>body{{margin:0;font-family:sans-serif}} #swagger-ui table{{border-collapse:collapse;margin:1em}}
#swagger-ui td{{padding:.3em .8em;border-bottom:1px solid #ddd}} .method{{font-weight:bold}}
.note{{color:#666;margin:0 1em}} #swagger-ui h1{{margin:1em}}</style></head>
<body><div id="swagger-ui"></div>
<script>{_FALLBACK_VIEWER}
function start() {{
  if (window.SwaggerUIBundle) {{
    window.ui = SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true}});
  }} else {{
    fetch("/openapi.json").then(r => r.json()).then(renderFallback);
  }}
}}
</script>
<script src="{html.escape(base)}/{js}" onload="start()" onerror="start()"></script>
</body></html>
"""


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()
