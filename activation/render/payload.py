"""Webhook payloads: a JSON document whose string leaves are templates.

A payload is written as the JSON the receiving system expects, e.g.
`{"event": "win_back", "email": "{{ email }}", "ltv": "{{ lifetime_value }}",
"greeting": "Hi {{ first_name }}"}`. A leaf that is exactly one `{{ expression }}` becomes the
expression's value, so `ltv` is a number, not the text of one; any other string leaf is
rendered as text. Keys and non-string leaves are sent as written. Values are converted to
JSON types on the way out (Decimal → number, timestamps → ISO 8601 in UTC when naive, UUID →
text) and anything JSON cannot carry is a clear error naming the payload path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from jinja2 import UndefinedError
from jinja2.runtime import Undefined

from activation.render.errors import TemplateCompileError, TemplateRenderError
from activation.render.limits import RenderLimits
from activation.render.sandbox import CompiledExpression, CompiledPart, compile_value

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
PayloadNode = (
    CompiledPart
    | CompiledExpression
    | None
    | bool
    | int
    | float
    | str
    | list["PayloadNode"]
    | dict[str, "PayloadNode"]
)


def _child(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def compile_payload(
    payload: Mapping[str, Any], limits: RenderLimits, path: str = "payload"
) -> dict[str, PayloadNode]:
    """Compile every string leaf of `payload`; refuse what JSON cannot hold."""
    if not isinstance(payload, Mapping):
        raise TemplateCompileError("a webhook payload must be a JSON object", part=path)
    compiled = _compile_node(payload, limits, path)
    assert isinstance(compiled, dict)
    return compiled


def _compile_node(node: Any, limits: RenderLimits, path: str) -> PayloadNode:
    if isinstance(node, str):
        return compile_value(node, part=path, limits=limits)
    if node is None or isinstance(node, bool | int):
        return node
    if isinstance(node, float):
        if not math.isfinite(node):
            raise TemplateCompileError("JSON has no NaN or infinity", part=path)
        return node
    if isinstance(node, Mapping):
        compiled: dict[str, PayloadNode] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                raise TemplateCompileError(
                    f"JSON object keys must be text, got {type(key).__name__}", part=path
                )
            compiled[key] = _compile_node(value, limits, _child(path, key))
        return compiled
    if isinstance(node, list | tuple):
        return [_compile_node(item, limits, _child(path, i)) for i, item in enumerate(node)]
    raise TemplateCompileError(
        f"a {type(node).__name__} cannot be part of a JSON payload", part=path
    )


def payload_variables(node: PayloadNode) -> frozenset[str]:
    """Every variable the payload's templates read."""
    if isinstance(node, CompiledPart | CompiledExpression):
        return node.variables
    if isinstance(node, dict):
        return frozenset().union(*(payload_variables(value) for value in node.values()))
    if isinstance(node, list):
        return frozenset().union(*(payload_variables(item) for item in node))
    return frozenset()


def render_payload(node: PayloadNode, variables: dict[str, Any]) -> JsonValue:
    """The payload for one recipient, every value a JSON type."""
    if isinstance(node, CompiledPart):
        return node.render(variables)
    if isinstance(node, CompiledExpression):
        return to_json_value(node.evaluate(variables), node.part)
    if isinstance(node, dict):
        return {key: render_payload(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [render_payload(item, variables) for item in node]
    return node


def to_json_value(value: Any, path: str) -> JsonValue:
    """`value` as JSON types; naive timestamps are UTC (the warehouse convention)."""
    if value is None or isinstance(value, bool | str):
        return str(value) if isinstance(value, str) else value
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise TemplateRenderError("JSON has no NaN or infinity", part=path)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        converted: dict[str, JsonValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TemplateRenderError("JSON object keys must be text", part=path)
            converted[key] = to_json_value(item, _child(path, key))
        return converted
    if isinstance(value, list | tuple):
        return [to_json_value(item, _child(path, i)) for i, item in enumerate(value)]
    if isinstance(value, Undefined):
        try:
            str(value)  # StrictUndefined raises the error naming the variable
        except UndefinedError as error:
            raise TemplateRenderError(error.message or "undefined value", part=path) from None
    raise TemplateRenderError(f"a {type(value).__name__} value cannot be sent as JSON", part=path)
