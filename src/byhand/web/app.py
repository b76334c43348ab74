"""The web server: the JSON API, the page and its static files, with a classroom's safeguards.

`create_app()` gathers every module of `byhand.web` that defines a module-level `router`, so a
new part of the site plugs in without editing this file. Every answer carries security headers
(a Content-Security-Policy with no inline script, nosniff, the same for every page,
the API's documentation at /docs included); request bodies are bounded; every
error a user can cause is a 4xx whose `detail` is one sentence naming the field.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRouter
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import byhand.web
from byhand.errors import ByhandError
from byhand.limits import LIMITS, Limits
from byhand.network import Network
from byhand.web import api, pages

log = logging.getLogger("byhand.web")

STATIC = Path(__file__).parent / "static"
#: modules of byhand.web that are not parts of the site
NOT_SITE = {"app", "api"}

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
UPLOAD_PATH = "/api/datasets/upload"


class BodyTooLarge(HTTPException):
    """A request body over the limit: 413 with a sentence naming the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"body: a request may be at most {limit} bytes ({limit / 2**20:g} MB)"
        )


class Guard:
    """ASGI middleware: security headers on every answer, and a bound on every request body.

    A body announced as too large (Content-Length) is refused before it is read; a body that
    grows past the limit while it arrives is refused as soon as it does.
    """

    def __init__(self, app: ASGIApp, limits: Limits = LIMITS) -> None:
        self.app = app
        self.limits = limits

    def limit_for(self, path: str) -> int:
        if path == UPLOAD_PATH:
            return self.limits.max_upload_bytes + 64 * 1024
        return self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_for(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += [(b"content-security-policy", CSP.encode()), *SECURITY_HEADERS]
                message = {**message, "headers": headers}
            await send(message)

        length = _content_length(scope)
        if length is not None and length > limit:
            response = _error(413, str(BodyTooLarge(limit).detail))
            await response(scope, receive, send_with_headers)
            return
        received = 0

        async def receive_bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, receive_bounded, send_with_headers)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _error(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


# --- validation errors as one sentence ----------------------------------------------------------


def where(loc: Sequence) -> str:
    """A field's path as the user wrote it: ("body", "model", "layers", 0) → model.layers[0]."""
    text = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def describe(error: dict) -> str:
    """One validation error as a sentence naming the field and the rule it broke."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    field = where(error.get("loc", ()))
    if kind == "samples":
        at = str(ctx.get("at", ""))
        if at and not at.startswith("["):
            return f"{at}: {ctx.get('message', '')}"
        return f"{field}{at}: {ctx.get('message', '')}"
    if kind == "model_file":
        # modelfile's message names the field inside the model file: model.layers[0].weights
        message = str(ctx.get("message", ""))
        inner = message.split(": ", 1)[0]
        joined = "" if inner.startswith("[") else "."
        if " " not in inner and ": " in message:
            return f"{field}{joined}{message}"
        return f"{field}: {message}"
    if kind == "json_invalid":
        return f"body: not valid JSON ({ctx.get('error', 'decode error')})"
    if kind == "missing":
        return f"{field}: required" if field != "body" else "body: send a JSON object"
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return f"{field}: must be a JSON object"
    if kind == "finite_number":
        return f"{field}: must be a finite number"
    if kind in ("float_type", "float_parsing"):
        return f"{field}: must be a number"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{field}: must be a whole number"
    if kind in ("string_type",):
        return f"{field}: must be text"
    if kind in ("list_type", "tuple_type"):
        return f"{field}: must be a list"
    if kind == "too_long":
        got = ctx.get("actual_length")
        return f"{field}: at most {ctx.get('max_length')} allowed" + (
            f" (got {got})" if got is not None else ""
        )
    if kind == "too_short":
        return f"{field}: at least {ctx.get('min_length')} needed"
    if kind == "string_too_long":
        return f"{field}: at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return f"{field}: must not be empty"
    if kind == "literal_error":
        return f"{field}: must be {ctx.get('expected')}"
    if kind == "extra_forbidden":
        return f"{field}: unknown field"
    limits = {
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be at least {ge}",
        "less_than": "must be less than {lt}",
        "less_than_equal": "must be at most {le}",
    }
    if kind in limits:
        return f"{field}: " + limits[kind].format(**ctx)
    message = str(error.get("msg", "is not valid"))
    return f"{field}: {message[:1].lower()}{message[1:]}"


# --- the app ------------------------------------------------------------------------------------


def site_routers() -> list[tuple[str, APIRouter]]:
    """Every module of byhand.web (but this one and the API) that defines a `router`."""
    found = []
    for module in pkgutil.iter_modules(byhand.web.__path__):
        if module.name in NOT_SITE or module.name.startswith("_"):
            continue
        mod = importlib.import_module(f"byhand.web.{module.name}")
        router = getattr(mod, "router", None)
        if isinstance(router, APIRouter):
            found.append((module.name, router))
    return found


def create_app(
    model: Network | None = None,
    limits: Limits = LIMITS,
    database: str | None = None,
    lectures: str | None = None,
) -> FastAPI:
    """The byhand web app: /api (JSON), the pages and /static. `model` replaces the lecture's
    network as the one /api/lecture hands out; `database` (a path or URL) keeps classes;
    `lectures` is a folder of Markdown lectures served beside the shipped ones (a malformed
    one is an error here, at start-up)."""
    app = FastAPI(
        title="byhand",
        summary="Neural networks, built by hand: the lecture's passes on any network, as JSON.",
        version=_version(),
        responses=api.ERRORS,
        # FastAPI's own /docs and /redoc load their script from a CDN with inline script:
        # byhand.web.apidocs serves /docs from the installed package instead, under CSP
        docs_url=None,
        redoc_url=None,
    )
    app.state.model = model
    app.state.database = database
    app.state.lectures = pages.series(lectures)
    app.include_router(api.router, prefix="/api")
    for _name, router in site_routers():
        app.include_router(router)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, limits=limits)

    @app.exception_handler(ByhandError)
    async def _byhand_error(request: Request, err: ByhandError) -> JSONResponse:
        return _error(422, str(err))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = err.errors()
        return _error(422, describe(errors[0]) if errors else "the request is not valid")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, err: HTTPException) -> JSONResponse:
        detail = str(err.detail)
        if err.status_code == 400 and detail == "There was an error parsing the body":
            return _error(
                422,
                "body: cannot be read as JSON (not UTF-8 text, nested too deeply, "
                "or a number too long)",
            )
        return _error(err.status_code, detail, getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return _error(500, "something went wrong inside the server; the error is in its log")

    return app


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("byhand")
    except Exception:
        return "0"
