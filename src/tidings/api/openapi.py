"""The API description: `/openapi.yaml` (the hand-written spec, as stored in the package) and
`/docs`, a self-contained HTML reference rendered from it on the server (no scripts, no CDN)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml
from jinja2 import Environment, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

SPEC_FILE = "openapi.yaml"
DOCS_TEMPLATE = "openapi_docs.html"
_METHODS = ("get", "post")


@lru_cache(maxsize=1)
def spec_text() -> str:
    return files("tidings.api").joinpath(SPEC_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(spec_text())
    return loaded


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s (`#/components/…`) until a node without one."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _type_text(document: dict[str, Any], schema: Any) -> str:
    """A one-line summary of a parameter's schema: type, allowed values, range, pattern."""
    node = _resolve(document, schema)
    if not isinstance(node, dict):
        return ""
    parts = [str(node.get("type", "string"))]
    if "enum" in node:
        parts.append("one of " + ", ".join(str(v) for v in node["enum"]))
    if "minimum" in node or "maximum" in node:
        parts.append(f"{node.get('minimum', '…')}…{node.get('maximum', '…')}")
    if "maxLength" in node:
        parts.append(f"≤ {node['maxLength']} characters")
    if "pattern" in node:
        parts.append(f"pattern {node['pattern']}")
    if "default" in node:
        parts.append(f"default {node['default']}")
    return "; ".join(parts)


def _description(document: dict[str, Any], schema: Any) -> str:
    node = _resolve(document, schema)
    return str(node.get("description", "")) if isinstance(node, dict) else ""


def _answer_shapes(document: dict[str, Any], response: Any) -> list[dict[str, Any]]:
    """Each media type of an answer with its schema's name(s) and fields."""
    shapes: list[dict[str, Any]] = []
    for media, content in _resolve(document, response).get("content", {}).items():
        schema = content.get("schema", {})
        variants = schema.get("anyOf", [schema])
        rendered = []
        for variant in variants:
            name, node = _named(document, variant)
            if node.get("type") == "array":
                item_name, item = _named(document, node.get("items", {}))
                name, node = f"array of {item_name}", item
            node = _merged(document, node)
            fields = [
                {
                    "name": field,
                    "type": _type_text(document, value),
                    "required": field in node.get("required", []),
                }
                for field, value in node.get("properties", {}).items()
            ]
            rendered.append(
                {"name": name, "description": node.get("description", ""), "fields": fields}
            )
        shapes.append({"media": media, "variants": rendered})
    return shapes


def _named(document: dict[str, Any], node: Any) -> tuple[str, dict[str, Any]]:
    name = str(node["$ref"]).rsplit("/", 1)[1] if isinstance(node, dict) and "$ref" in node else ""
    resolved = _resolve(document, node)
    return name or str(resolved.get("type", "")), resolved


def _merged(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """An `allOf` folded into one object schema (enough for a reference page)."""
    if "allOf" not in node:
        return node
    merged: dict[str, Any] = {
        "properties": {},
        "required": [],
        "description": node.get("description", ""),
    }
    for part in node["allOf"]:
        resolved = _resolve(document, part)
        merged["properties"].update(resolved.get("properties", {}))
        merged["required"] += resolved.get("required", [])
    return merged


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            params = [_resolve(document, p) for p in operation.get("parameters", [])]
            body = _resolve(document, operation.get("requestBody", {}))
            media = list(body.get("content", {}))
            if media:
                body_schema = _resolve(document, body["content"][media[0]]["schema"])
                params = [
                    {"name": name, "schema": value, "in": "body"}
                    for name, value in body_schema.get("properties", {}).items()
                ]
            found.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "anchor": f"{method}-{path.strip('/').replace('/', '-').replace('.', '-')}",
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "media": media,
                    "params": [
                        {
                            "name": p["name"],
                            "type": _type_text(document, p.get("schema", {})),
                            "description": p.get("description")
                            or _description(document, p.get("schema", {})),
                        }
                        for p in params
                    ],
                    "answers": _answer_shapes(document, operation["responses"]["200"]),
                }
            )
    return found


@lru_cache(maxsize=1)
def docs_html() -> str:
    document = spec()
    page = files("tidings.api").joinpath(DOCS_TEMPLATE).read_text(encoding="utf-8")
    env = Environment(autoescape=select_autoescape(default=True))
    env.filters["markdown"] = _markdown
    template = env.from_string(page)
    return template.render(info=document["info"], operations=_operations(document))


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def _markdown(text: str) -> Markup:
    """The spec's descriptions are Markdown (CommonMark, as OpenAPI says): rendered, with any
    raw HTML in them escaped, not passed through."""
    return Markup(_MARKDOWN.render(text or ""))


async def openapi_yaml(_request: Request) -> Response:
    return Response(spec_text(), media_type="application/yaml; charset=utf-8")


async def docs_page(_request: Request) -> Response:
    return HTMLResponse(docs_html())


def openapi_routes() -> list[BaseRoute]:
    return [Route("/openapi.yaml", openapi_yaml), Route("/docs", docs_page)]
