"""A class in session over HTTP: the API under /api/classes and the pages under /class.

    POST /api/classes                             create → 201 {code, teacher_key, join_url, teacher_url}
    GET  /api/classes/{code}                      title, mode, open or closed (anyone with the code)
    POST /api/classes/{code}/students             join {"name"} → 201 {student_id, student_token}
    GET  /api/classes/{code}/exercise             (student) this student's variant, worksheet JSON
    POST /api/classes/{code}/exercise             (student, homework) a fresh variant after a wrong try
    POST /api/classes/{code}/submissions          (student) {"answers"} → 201 the verdicts, stored
    GET  /api/classes/{code}/submissions          (student) this student's own submissions
    GET  /api/classes/{code}/dashboard            (teacher) steps, slips, students
    GET  /api/classes/{code}/dashboard/events     (teacher) the dashboard as server-sent events
    GET  /api/classes/{code}/grades.csv           (teacher) one row per student
    POST /api/classes/{code}/close | reopen       (teacher)
    POST /api/classes/{code}/teacher/session      {"teacher_key"} → an HttpOnly cookie for the page
    GET  /class/{code}                            the student's page
    GET  /class/{code}/teacher                    the teacher's live dashboard

A student sends `Authorization: Bearer <student_token>`; a teacher the teacher key the same
way, or the cookie the teacher page sets (a key never appears in a URL). The database is the
server's `--database` (or $BYHAND_DATABASE_URL); without one these routes answer 404.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from byhand.classroom import db as classroom_db
from byhand.classroom import service
from byhand.classroom.db import Database, DatabaseUnavailable
from byhand.classroom.rates import SharedRate
from byhand.diagram import network_svg
from byhand.teach.checker import MAX_ANSWERS
from byhand.teach.solution import SECTIONS
from byhand.web import practice
from byhand.web.pages import _env
from byhand.web.schemas import ErrorAnswer

#: the refusals every classroom route may give, each a one-sentence `detail`
REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorAnswer, "description": text}
    for status, text in {
        401: "No token, or one that is not right for this class.",
        403: "A student's token on a teacher's route, or the teacher key on a student's.",
        404: "No class with this code (or the server keeps no classes).",
        409: "The class is closed, or the request does not fit the class's state.",
        429: "Too many submissions from one student, or classes joined or made from one "
        "address: see Retry-After.",
        503: "The database is busy or away: try again.",
    }.items()
}
#: a 429 and a 503 say when to ask again
for _status in (429, 503):
    REFUSALS[_status]["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait before asking again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
router = APIRouter(tags=["classes"], responses=REFUSALS)

#: the cookie the teacher page keeps the key in (one per class)
COOKIE = "byhand_teacher_"
COOKIE_MAX_AGE_S = 12 * 3600
#: how often a dashboard stream looks at the database, and sends a comment to keep it open
POLL_S = 0.5
KEEPALIVE_S = 15.0

#: how often one student may submit (or draw a fresh variant): 3 at once, 3 a second on
#: average; counted in the database, so every server process counts the same submissions
SUBMISSIONS = SharedRate("submit", per_second=3, burst=3)
#: joins from one address (a school behind one address: a whole year group at once), and
#: guesses of join codes with them; `byhand serve` counts them (per-client limits on)
JOINS = SharedRate("join", per_second=2, burst=100)
#: classes made from one address: 10 at once, then one a minute
CREATES = SharedRate("create", per_second=1 / 60, burst=10)

_open_lock = threading.Lock()


# --- the database and errors ----------------------------------------------------------------------


def database(request: Request) -> Database:
    """The app's classroom database, opened (and migrated) on first use."""
    state = request.app.state
    db = getattr(state, "classroom", None)
    if db is not None:
        return db
    url = getattr(state, "database", None) or os.environ.get(classroom_db.ENV)
    if not url:
        raise HTTPException(
            404, "the classroom is off: start the server with 'byhand serve --classroom'"
        )
    with _open_lock:
        if getattr(state, "classroom", None) is None:
            state.classroom = classroom_db.open_database(url)
    return state.classroom


@contextmanager
def answering() -> Iterator[None]:
    """A classroom refusal as its HTTP status with its sentence; a busy database as 503."""
    try:
        yield
    except service.ClassroomError as err:
        raise HTTPException(err.status, str(err), err.headers) from None
    except DatabaseUnavailable as err:
        raise HTTPException(503, str(err), {"Retry-After": "1"}) from None


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def cookie_name(code: str) -> str:
    """The teacher page's cookie for class `code`; a code that cannot be one is a 404."""
    code = service.normal_code(code)
    if not service.is_code(code):
        raise HTTPException(404, f"no class with the code {code!r}")
    return COOKIE + code


def teacher_key(request: Request, code: str) -> str | None:
    """The teacher key from the Authorization header, else from the teacher page's cookie."""
    return bearer(request) or request.cookies.get(cookie_name(code))


# --- requests -------------------------------------------------------------------------------------

Layers = Annotated[str, Field(min_length=3, max_length=20, pattern=r"^[0-9, ]+$")]


class Activity(BaseModel):
    """What every variant of the class asks: the network's shape and the questions."""

    model_config = ConfigDict(extra="forbid")
    layers: Layers = "3,2,2"
    activation: str = Field("sigmoid", max_length=20)
    questions: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=lambda: list(SECTIONS), min_length=1, max_length=len(SECTIONS)
    )
    learning_rate: float | None = Field(None, gt=0, le=10, allow_inf_nan=False)


class NewClass(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., max_length=service.TITLE_MAX * 2)
    mode: Literal["homework", "exam"] = "homework"
    activity: Activity = Field(default_factory=Activity)
    max_submissions: int | None = Field(None, ge=1, le=service.MAX_TRIES)
    points: list[Annotated[float, Field(ge=0, le=1000)]] | None = Field(
        None, min_length=1, max_length=service.MAX_TRIES
    )


class NewStudent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., max_length=service.NAME_MAX * 4)


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[Annotated[str, Field(max_length=40)], Any] = Field(..., max_length=MAX_ANSWERS)


class TeacherLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    teacher_key: str = Field(..., min_length=1, max_length=200)


# --- the API --------------------------------------------------------------------------------------


def _set_teacher_cookie(response: Response, code: str, key: str) -> None:
    response.set_cookie(
        cookie_name(code),
        key,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
    )


@router.post("/api/classes", status_code=201)
def create_class(body: NewClass, request: Request, response: Response) -> dict:
    """A new class; the teacher key is shown only in this answer (and kept in a cookie)."""
    db = database(request)
    _per_address(request, db, CREATES, "classes made")
    with answering():
        made = service.create_class(
            db,
            body.title,
            body.mode,
            body.activity.layers.replace(" ", ""),
            body.activity.activation,
            body.activity.questions,
            body.activity.learning_rate,
            body.max_submissions,
            body.points,
        )
    _set_teacher_cookie(response, made.code, made.teacher_key)
    base = str(request.base_url).rstrip("/")
    return {
        "code": made.code,
        "teacher_key": made.teacher_key,
        "join_url": f"{base}/class/{made.code}",
        "teacher_url": f"{base}/class/{made.code}/teacher",
    }


@router.get("/api/classes/{code}")
def class_info(code: str, request: Request) -> dict:
    """The class's title and mode, and whether it is open, for the join page."""
    with answering():
        return service.public_info(database(request), code)


@router.post("/api/classes/{code}/students", status_code=201)
def join(code: str, body: NewStudent, request: Request) -> dict:
    """Join under a name (1–60 characters); the token is shown only in this answer."""
    db = database(request)
    _per_address(request, db, JOINS, "joins")
    with answering():
        joined = service.join(db, code, body.name)
    return {"student_id": joined.student_id, "student_token": joined.student_token}


def _exercise_answer(found: service.Exercise) -> dict:
    """The sheet as `byhand worksheet` writes it, with the Practice section's view of it (the
    givens and boxes as MathML), the diagram of this student's network, and their standing."""
    sheet = found.sheet
    view, svg = _drawn(sheet.dumps(), found.state["class"]["activation"])
    return {
        **sheet.to_dict(),
        **found.state,
        "asked": sheet.asked,
        "practice": view,
        "diagram_svg": svg,
    }


@lru_cache(maxsize=512)
def _drawn(sheet_text: str, activation: str) -> tuple[dict, str]:
    """A sheet's Practice view and diagram, drawn once per variant (a student reloading their
    page, or a class joining at once, asks for them again and again)."""
    sheet = service.sheet_from(sheet_text)
    view = practice.exercise(
        seed=sheet.seed,
        layers=",".join(map(str, sheet.net.sizes)),
        activation=activation,
        questions=",".join(sheet.questions),
        lr=sheet.learning_rate,
    )
    return view, network_svg(sheet.net)


def _per_address(request: Request, db: Database, rate: SharedRate, what: str) -> None:
    """429 with Retry-After when the request's address has used up its budget of `rate`
    (only with per-client limits on, as `byhand serve` runs; a test client has one address)."""
    settings = getattr(request.app.state, "settings", None)
    if settings is None or not settings.per_client:
        return
    client = request.client.host if request.client else ""
    with answering():
        wait = rate.take(db, client)
    if wait > 0:
        per_minute = rate.per_second * 60
        raise HTTPException(
            429,
            f"too many {what} from one address: at most {rate.burst} at once and "
            f"{per_minute:g} a minute; try again in {rate.retry_after(wait)} s",
            {"Retry-After": rate.retry_after(wait)},
        )


def _rate_limit(db: Database):
    """A gate for one student: 429 with Retry-After when they send too often."""

    def gate(student_id: int) -> None:
        wait = SUBMISSIONS.take(db, str(student_id))
        if wait > 0:
            raise HTTPException(
                429,
                f"too many submissions: at most {SUBMISSIONS.burst} at once and "
                f"{SUBMISSIONS.per_second:g} a second; try again shortly",
                {"Retry-After": SUBMISSIONS.retry_after(wait)},
            )

    return gate


@router.get("/api/classes/{code}/exercise")
def exercise(code: str, request: Request) -> dict:
    """This student's own variant (the same one every time, until a fresh one is drawn)."""
    with answering():
        return _exercise_answer(service.exercise(database(request), code, bearer(request)))


@router.post("/api/classes/{code}/exercise", status_code=201)
def fresh_exercise(code: str, request: Request) -> dict:
    """Homework: a fresh variant, after a wrong submission."""
    token = bearer(request)
    db = database(request)
    with answering():
        _rate_limit(db)(service.check_student(db, code, token))
        return _exercise_answer(service.fresh_variant(db, code, token))


@router.post("/api/classes/{code}/submissions", status_code=201)
def submit(code: str, body: Submission, request: Request) -> dict:
    """Grade and store the answers; the verdicts as `byhand check --json` prints them."""
    token = bearer(request)
    db = database(request)
    with answering():
        return service.submit(db, code, token, body.answers, _rate_limit(db))


@router.get("/api/classes/{code}/submissions")
def own_submissions(code: str, request: Request) -> dict:
    """This student's submissions, oldest first, each with its verdicts."""
    with answering():
        return {"submissions": service.own_submissions(database(request), code, bearer(request))}


@router.get("/api/classes/{code}/dashboard")
def dashboard(code: str, request: Request) -> dict:
    """Per step: right, carried, wrong, missing; the slips with their shares; every student."""
    with answering():
        return service.dashboard(database(request), code, teacher_key(request, code))


#: the newest dashboard of each class this process has drawn, with its fingerprint: several
#: teacher tabs (or a projector and a laptop) share one computation per change
_boards: dict[tuple[str, str], tuple[tuple, dict]] = {}


def _board(db: Database, code: str, key: str | None, mark: tuple) -> dict:
    """The dashboard for fingerprint `mark` (its teacher key checked by `fingerprint`)."""
    found = _boards.get((db.url, code))
    if found is not None and found[0] == mark:
        return found[1]
    board = service.dashboard(db, code, key)
    if len(_boards) > 256:
        _boards.clear()
    _boards[(db.url, code)] = (mark, board)
    return board


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get(
    "/api/classes/{code}/dashboard/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: `dashboard`, with the dashboard's JSON.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def dashboard_events(code: str, request: Request) -> StreamingResponse:
    """The dashboard, sent again within POLL_S of each change (read from the database, so a
    submission any worker process stores shows)."""
    db = database(request)
    key = teacher_key(request, code)
    with answering():
        first = await to_thread.run_sync(service.fingerprint, db, code, key)

    async def stream() -> AsyncIterator[str]:
        seen = None
        mark = first
        quiet = 0.0
        while not await request.is_disconnected():
            if mark != seen:
                board = await to_thread.run_sync(_board, db, code, key, mark)
                seen = mark
                quiet = 0.0
                yield _event("dashboard", board)
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": still here\n\n"
            await asyncio.sleep(POLL_S)
            quiet += POLL_S
            try:
                mark = await to_thread.run_sync(service.fingerprint, db, code, key)
            except DatabaseUnavailable:
                continue
            except service.ClassroomError as err:
                yield _event("error", {"detail": str(err)})
                return

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/api/classes/{code}/grades.csv",
    response_class=Response,
    responses={
        200: {
            "description": "One row per student (UTF-8 with a byte-order mark).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def grades(code: str, request: Request) -> Response:
    """The gradebook as CSV: name, submissions, score, right/total, first wrong step, last
    submission."""
    with answering():
        text = service.grades_csv(database(request), code, teacher_key(request, code))
    name = f"grades-{service.normal_code(code)}.csv"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/api/classes/{code}/close")
def close(code: str, request: Request) -> dict:
    """Close the class: no one joins or submits until it is reopened."""
    with answering():
        return service.set_closed(database(request), code, teacher_key(request, code), True)


@router.post("/api/classes/{code}/reopen")
def reopen(code: str, request: Request) -> dict:
    with answering():
        return service.set_closed(database(request), code, teacher_key(request, code), False)


@router.post("/api/classes/{code}/teacher/session", status_code=204)
def teacher_login(code: str, body: TeacherLogin, request: Request) -> Response:
    """Check the teacher key once and keep it in an HttpOnly cookie for the teacher page."""
    with answering():
        found = service.check_teacher(database(request), code, body.teacher_key)
    response = Response(status_code=204)
    _set_teacher_cookie(response, found, body.teacher_key)
    return response


@router.delete("/api/classes/{code}/teacher/session", status_code=204)
def teacher_logout(code: str) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(cookie_name(code), path="/")
    return response


# --- the pages ------------------------------------------------------------------------------------


def _page(template: str, request: Request, code: str) -> HTMLResponse:
    with answering():
        info = service.public_info(database(request), code)
    html = _env().get_template(template).render(info=info)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/class/{code}", response_class=HTMLResponse, include_in_schema=False)
def student_page(code: str, request: Request) -> HTMLResponse:
    return _page("class.html", request, code)


@router.get("/class/{code}/teacher", response_class=HTMLResponse, include_in_schema=False)
def teacher_page(code: str, request: Request) -> HTMLResponse:
    return _page("teacher.html", request, code)
