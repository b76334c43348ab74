"""The web server: the JSON API, the page and its static files, with a classroom's safeguards.

`create_app()` gathers every module of `byhand.web` that defines a module-level `router`, so a
new part of the site plugs in without editing this file. Every answer carries security headers
(a Content-Security-Policy with no inline script, nosniff, the same for every page,
the API's documentation at /docs included); request bodies are bounded; every
error a user can cause is a 4xx whose `detail` is one sentence naming the field.
"""

from __future__ import annotations

import importlib
import ipaddress
import logging
import pickle
import pkgutil
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio
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
from byhand.web import api, jobs, pages
from byhand.web.clients import RateLimit
from byhand.web.heavy import (
    CURRENT,
    FULL,
    JOB_TYPE,
    LOST,
    HeavyLane,
    HelperDied,
    big_body,
    is_heavy,
)
from byhand.web.settings import Settings

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
#: where the page's own files are served (StaticFiles), counted apart from other requests
FILES = "/static/"


class BodyTooLarge(HTTPException):
    """A request body over the limit: 413 with a sentence naming the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"body: a request may be at most {limit} bytes ({limit / 2**20:g} MB)"
        )


#: methods that change nothing: a cross-site request with one of them cannot act for a student
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: an answer's body goes out in pieces of this many bytes, each within the send timeout
SEND_PIECE = 64 * 1024


class Guard:
    """ASGI middleware around the whole app: what every request passes and every answer carries.

    - security headers on every answer, a 500 included (an unexpected error is answered here,
      inside the headers, and logged once);
    - Host: one the server was told it serves (`Settings.allowed_hosts`), or an IP address;
      anything else (a name pointing at this machine from another site) gets 400;
    - Origin (or Referer) on a request that may change something (POST …): the server's own,
      else 403, so a page on another site cannot post to the class server (browsers send
      Origin on every cross-site POST, a form's included); scripts that send neither pass;
    - with per-client limits on, at most `client_rate` requests a second per client address
      (bursts of `client_burst`), and `heavy_rate` of those with a body over `heavy_bytes`
      (bursts of `heavy_burst`): one more gets 429 with Retry-After; the page's own files
      (GET /static/…) count in a bucket of their own, `file_rate` (bursts of `file_burst`);
    - a body announced as too large (Content-Length) is refused before it is read, one that
      grows past the limit while it arrives as soon as it does;
    - a request refused before its body is read, with a body over `heavy_bytes`, is answered
      with Connection: close: its megabytes are never read (keeping the connection would mean
      reading them all, as dear as answering);
    - with the heavy lane on, a request with a big body is read here and answered by a helper
      process (`byhand.web.heavy`); past the lane's queue it gets 503 with Retry-After at once;
    - an answer goes out in pieces, each within `send_seconds`: a client that does not read
      is dropped, and the answer's memory with it.
    """

    def __init__(self, app: ASGIApp, settings: Settings, lane: HeavyLane | None = None) -> None:
        self.app = app
        self.settings = settings
        self.limits = settings.limits
        hosts = settings.allowed_hosts
        self.hosts = None if hosts is None else {h.lower().strip("[]") for h in hosts}
        on = settings.per_client
        self.rate = RateLimit(self.limits.client_rate, self.limits.client_burst) if on else None
        self.heavy = RateLimit(self.limits.heavy_rate, self.limits.heavy_burst) if on else None
        self.files = RateLimit(self.limits.file_rate, self.limits.file_burst) if on else None
        self.lane = lane

    def limit_for(self, path: str) -> int:
        if path == UPLOAD_PATH:
            return self.limits.max_upload_bytes + self.limits.max_form_parts * (
                self.limits.max_field_bytes + 1024
            )
        return self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        timeout = self.limits.send_seconds

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += [(b"content-security-policy", CSP.encode()), *SECURITY_HEADERS]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                more = message.get("more_body", False)
                for start in range(0, len(body) - SEND_PIECE, SEND_PIECE):
                    piece = {"type": "http.response.body", "body": body[start : start + SEND_PIECE]}
                    with anyio.fail_after(timeout):
                        await send({**piece, "more_body": True})
                if len(body) > SEND_PIECE:
                    message = {
                        **message,
                        "body": body[(len(body) - 1) // SEND_PIECE * SEND_PIECE :],
                    }
                with anyio.fail_after(timeout):
                    await send({**message, "more_body": more})
                return
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            if self.body_is_big(scope):
                # the body is not read: closing costs nothing, reading it to keep the connection
                # would cost as much as a request (a script resending megabytes after each 429)
                refusal.headers["connection"] = "close"
            await refusal(scope, receive, send_guarded)
            return
        limit = self.limit_for(scope.get("path", ""))
        received = 0

        async def receive_bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            if self.lane is not None and self.goes_to_lane(scope):
                await self.answer_in_lane(scope, receive_bounded, send_guarded)
            else:
                # endpoints hand big computations to the lane (byhand.web.heavy.compute)
                CURRENT.set(self.lane)
                await self.app(scope, receive_bounded, send_guarded)
        except TimeoutError:
            # the client stopped reading: end here; the server closes the connection
            log.warning("dropped a client that did not read its answer for %g s", timeout)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope["path"])
            if not started:
                response = _error(
                    500, "something went wrong inside the server; the error is in its log"
                )
                await response(scope, receive, send_guarded)

    def body_is_big(self, scope: Scope) -> bool:
        """Whether a request's body is over heavy_bytes, or of unknown size (heavy.big_body)."""
        return big_body(_content_length(scope), _chunked(scope), self.limits)

    def goes_to_lane(self, scope: Scope) -> bool:
        return is_heavy(
            scope.get("method", ""), scope["path"], _content_length(scope), _chunked(scope),
            self.limits,
        )  # fmt: skip

    async def answer_in_lane(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the whole body, have a helper process answer it, send its answer on."""
        assert self.lane is not None
        if self.lane.full():
            closing = {"Retry-After": "1", "Connection": "close"}  # the body is left unread
            await _error(503, FULL, closing)(scope, receive, send)
            return
        parts = []
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except BodyTooLarge as err:
            await _error(413, str(err.detail))(scope, receive, send)
            return
        request = (
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            [(k, v) for k, v in scope.get("headers", []) if k != b"transfer-encoding"],
            b"".join(parts),
        )
        try:
            status, headers, body = await self.lane.answer(request)
        except HelperDied:
            log.warning("a helper process died answering %s", scope["path"])
            await _error(503, LOST, {"Retry-After": "1"})(scope, receive, send)
            return
        if status == 200 and (b"content-type", JOB_TYPE) in headers:
            # a training job, checked in the helper: admitted and streamed from here
            await self.stream_job(pickle.loads(body), scope, receive, send)
            return
        ours = {b"content-security-policy", *(k for k, _ in SECURITY_HEADERS)}
        headers = [(k, v) for k, v in headers if k.lower() not in ours]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def stream_job(self, job, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit a job a helper built (as /api/train does) and stream it from this process."""
        client = scope.get("client")
        job = jobs.adopt(job, client[0] if client else "")
        await jobs.admitted(job)(scope, receive, send)

    def refusal(self, scope: Scope) -> JSONResponse | None:
        """The answer to a request refused before the app sees it, or None."""
        headers = _headers(scope)
        host = headers.get("host", "")
        if self.hosts is not None and not self.serves(host):
            return _error(
                400,
                f"host: this server does not serve {host[:80]!r}; a classroom that reaches it "
                "by a name starts it with --allowed-host NAME",
            )
        if scope.get("method", "GET") not in SAFE_METHODS:
            origin = headers.get("origin") or _origin_of(headers.get("referer"))
            if origin is not None and not _same_origin(origin, host):
                return _error(
                    403,
                    f"origin: a request from {origin[:80]!r} may not change anything here; "
                    "only this server's own pages may",
                )
        length = _content_length(scope)
        if self.rate is not None and self.heavy is not None:
            client = scope.get("client")
            key = client[0] if client else ""
            if scope.get("method") in SAFE_METHODS and scope.get("path", "").startswith(FILES):
                wait = self.files.take(key)
                what = f"{self.limits.file_rate:g} of the page's files"
            else:
                wait = self.rate.take(key)
                what = f"{self.limits.client_rate:g} requests"
            if wait == 0 and self.body_is_big(scope):
                wait = self.heavy.take(key)
                what = (
                    f"{self.limits.heavy_rate:g} requests larger than "
                    f"{self.limits.heavy_bytes // 1024} KB"
                )
            if wait > 0:
                return _error(
                    429,
                    f"too many requests: at most {what} a second from one client; "
                    "try again in a moment",
                    {"Retry-After": self.rate.retry_after(wait)},
                )
        limit = self.limit_for(scope.get("path", ""))
        if length is not None and length > limit:
            return _error(413, str(BodyTooLarge(limit).detail))
        return None

    def serves(self, host: str) -> bool:
        """Whether a request's Host header names this server: an allowed name, or an address."""
        name = _host_name(host)
        if self.hosts is None or name in self.hosts:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers, first of each name, as text."""
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        found.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def _host_name(host: str) -> str:
    """The name or address in a Host header, without its port: [::1]:8000 → ::1."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _origin_of(referer: str | None) -> str | None:
    """scheme://host[:port] of a Referer, or None."""
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "null"


def _same_origin(origin: str, host: str) -> bool:
    """Whether an Origin (http://host:port) is the server's own, as the request's Host says."""
    if origin == "null":
        return False
    netloc = urlsplit(origin).netloc.lower()
    return bool(netloc) and netloc == host.strip().lower()


def _chunked(scope: Scope) -> bool:
    """Whether the body comes in chunks (Transfer-Encoding), its size unknown until read."""
    return any(k == b"transfer-encoding" for k, _ in scope.get("headers", []))


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
    settings: Settings | None = None,
    lectures: str | None = None,
) -> FastAPI:
    """The byhand web app: /api (JSON), the pages and /static. `model` replaces the lecture's
    network as the one /api/lecture hands out; `database` (a path or URL) keeps classes;
    `settings` (hosts, per-client limits) are how `byhand serve` runs it, and their limits win
    over `limits`; `lectures` is a folder of Markdown lectures served beside the shipped ones
    (a malformed one is an error here, at start-up)."""
    settings = settings or Settings(limits=limits)
    app = FastAPI(
        title="byhand",
        summary="Neural networks, built by hand: the lecture's passes on any network, as JSON.",
        version=_version(),
        responses=api.ERRORS,
        # FastAPI's own /docs and /redoc load their script from a CDN with inline script:
        # byhand.web.apidocs serves /docs from the installed package instead, under CSP
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.model = model
    app.state.database = database
    app.state.lectures = pages.series(lectures)
    app.include_router(api.router, prefix="/api")
    for _name, router in site_routers():
        app.include_router(router)
    if STATIC.is_dir():
        app.mount(FILES.rstrip("/"), StaticFiles(directory=STATIC), name="static")
    app.state.settings = settings
    #: the heavy lane's helper processes, stopped when the app stops (see _lifespan)
    app.state.lane = HeavyLane(settings, app_from_environment) if settings.heavy_lane else None
    app.add_middleware(Guard, settings=settings, lane=app.state.lane)

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

    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Nothing to start; on stopping, the heavy lane's helper processes end with the app."""
    yield
    lane = getattr(app.state, "lane", None)
    if lane is not None:
        lane.close()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("byhand")
    except Exception:
        return "0"


def app_from_environment() -> FastAPI:
    """The app as `byhand serve` runs it in each worker process: the Settings it wrote to the
    environment (`Settings.to_environment`), the model file they name loaded here."""
    import sys

    from byhand import modelfile
    from byhand.web.protocol import quiet_repeats

    quiet_repeats()
    settings = Settings.from_environment()
    model = modelfile.load(settings.model) if settings.model else None
    # hand the interpreter between threads every 0.5 ms (not 5): a click that waits while a
    # worker thread computes a big request is answered within a millisecond or two
    sys.setswitchinterval(0.0005)
    return create_app(model=model, settings=settings, lectures=settings.lectures)
