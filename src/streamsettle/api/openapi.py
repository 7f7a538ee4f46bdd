"""The OpenAPI document as the API really answers: every error in the one error body.

FastAPI documents only the success answers and a 422 in its own ``{"detail": …}`` shape,
which this API never sends. ``install_openapi`` replaces the generator so that each
operation lists the errors it can answer, all as ``ErrorBody``:

- 400 where a body is read (one that cannot even be decoded), 401 where a bearer token is
  read (a bad, expired or revoked one is refused even where the token is optional), 403
  where a role is required, 422 where there is any input, 503 where a backing server
  (PostgreSQL, Redis) is used;
- the route's own ones (404, 409, 415, 429, …) from its decorator's ``responses=``, where a
  description is enough (``errors({404: "no such video"})``): the body schema is added here.

A route whose bearer is optional says so with ``openapi_extra=OPTIONAL_BEARER``: FastAPI
appends the empty requirement ``{}`` to the operation's ``security``, which in OpenAPI
means "or no credentials at all".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts

from streamsettle.api.deps import get_optional_claims
from streamsettle.http.deps import get_runtime

OPTIONAL_BEARER: dict[str, Any] = {"security": [{}]}


def errors(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """A decorator's ``responses=`` from each error code's description; the body is added
    by ``rewrite_errors``."""
    return {code: {"description": text} for code, text in descriptions.items()}


def csv_route(description: str) -> dict[str, Any]:
    """The decorator arguments of a route that answers a CSV attachment."""
    return {
        "response_class": Response,
        "responses": {200: {"content": {"text/csv": {}}, "description": description}},
    }


ERROR_BODY = "ErrorBody"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_BODY}"}
ERROR_BODY_SCHEMA: dict[str, Any] = {
    "title": ERROR_BODY,
    "description": "Every error answer of the API.",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "stable and machine-readable: invalid_input, "
                    "unauthenticated, forbidden, not_found, conflict, batch_refused, "
                    "unsupported_media_type, rate_limited, unavailable, …",
                    "examples": ["invalid_input"],
                },
                "message": {"type": "string", "description": "for people"},
                "details": {
                    "description": "null, or what helps fix the request (for a 422 the list "
                    "of {loc, message, type})",
                },
            },
        }
    },
}

DEFAULT_DESCRIPTIONS = {
    400: "A request body that cannot be decoded",
    401: "No, an invalid, an expired or a revoked bearer token",
    403: "Authenticated, but not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    415: "Unsupported Content-Type",
    422: "Invalid input",
    429: "Too many requests; Retry-After tells when to try again",
    503: "A backing server (PostgreSQL, Redis or the identity provider) is unavailable",
}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _is_role_check(call: Any) -> bool:
    return str(getattr(call, "__qualname__", "")).startswith("require_role.")


def inferred_errors(route: APIRoute) -> set[int]:
    """The errors a route's parameters and dependencies can answer, whatever the route does."""
    calls = list(_calls(route.dependant))
    codes: set[int] = set()
    if get_optional_claims in calls or any(getattr(c, "scheme_name", "") for c in calls):
        codes.add(401)
    if any(_is_role_check(c) for c in calls):
        codes.add(403)
    if get_flat_params(route.dependant) or route.body_field is not None:
        codes.add(422)
    if route.body_field is not None:
        codes.add(400)  # FastAPI's answer to a body it cannot even decode
    if get_runtime in calls:
        codes.add(503)
    return codes


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def rewrite_errors(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document of ``app``, with the error answers as the module docstring says."""
    operations = schema.get("paths", {})
    for context in iter_route_contexts(app.routes):  # included routers' routes too
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        inferred = inferred_errors(route)
        for method in context.methods or ():
            operation = operations[context.path_format][method.lower()]
            responses: dict[str, Any] = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for code in sorted(declared | inferred):
                given = responses.get(str(code), {})
                description = given.get("description")
                if not description or description == "Validation Error":
                    description = DEFAULT_DESCRIPTIONS.get(code, "Error")
                responses[str(code)] = _error_response(description)
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components[ERROR_BODY] = ERROR_BODY_SCHEMA
    schema["components"]["schemas"] = dict(sorted(components.items()))
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the rewritten document at ``/openapi.json`` (built once, on first use)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = rewrite_errors(app, generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
