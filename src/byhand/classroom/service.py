"""What a teacher and a student can do with a class, each in one database transaction.

A class has a short join code (6 characters, no look-alikes such as O and 0) that students
type, and a long teacher key shown once. A student joins with a name and gets a token (shown
once) and their own variant: a worksheet drawn from their own seed. Every submission is graded
by `grading.grade` and committed before its verdicts are returned.

    homework   no limit on submissions; after a wrong one the student may ask for a fresh variant
    exam       one variant; at most `max_submissions` (3) and points falling per try (10, 7, 5)

A submission earns points[try − 1] × right / total (the last entry for later tries); a
student's score is the best of their submissions.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Connection, func, select

from byhand.classroom.db import Database
from byhand.classroom.grading import grade, slip_of, tally_of
from byhand.classroom.schema import classes, exercises, students, submissions
from byhand.errors import ByhandError
from byhand.teach import worksheet
from byhand.teach.checker import CARRIED, MISSING, RIGHT, WRONG

#: join codes: no I, L, O, 0 or 1, which look alike on a projector
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
NAME_MAX = 60
TITLE_MAX = 120
#: seeds students' variants are drawn from
SEEDS = 1_000_000_000


@dataclass(frozen=True)
class Mode:
    """How a class is marked: submissions allowed, points per try, fresh variants or not."""

    max_submissions: int | None
    points: tuple[float, ...]
    fresh_variants: bool


MODES = {
    "homework": Mode(max_submissions=None, points=(10,), fresh_variants=True),
    "exam": Mode(max_submissions=3, points=(10, 7, 5), fresh_variants=False),
}
MAX_TRIES = 100


class ClassroomError(ByhandError):
    """A refusal the web layer answers with `status` and this sentence."""

    status = 422
    headers: dict[str, str] | None = None


class NotFound(ClassroomError):
    status = 404


class Unauthorized(ClassroomError):
    status = 401
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(ClassroomError):
    status = 403


class Conflict(ClassroomError):
    """The class is closed, or the request does not fit the class's state."""

    status = 409


def now() -> datetime:
    return datetime.now(UTC)


def utc(stamp: datetime | None) -> datetime | None:
    """A stored time in UTC (SQLite gives it back without its zone)."""
    if stamp is None:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normal_code(code: str) -> str:
    return str(code).strip().upper()


def is_code(code: str) -> bool:
    """Whether `code` (as normal_code gives it) could be a join code."""
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def check_name(name: str, what: str = "name", limit: int = NAME_MAX) -> str:
    """A name as it is kept: 1 to `limit` characters once trimmed, no control characters."""
    if not isinstance(name, str):
        raise ClassroomError(f"{what}: must be text")
    name = " ".join(name.split())
    if not name:
        raise ClassroomError(f"{what}: must not be empty")
    if len(name) > limit:
        raise ClassroomError(f"{what}: at most {limit} characters (got {len(name)})")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in name):
        raise ClassroomError(f"{what}: must not contain control characters")
    return name


# --- classes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """A new class: its join code and the teacher key, which is shown only this once."""

    code: str
    teacher_key: str


def _points(points: Sequence[float] | str | None, mode: Mode) -> tuple[float, ...]:
    if points is None:
        return mode.points
    if isinstance(points, str):
        try:
            points = [float(p) for p in points.split(",") if p.strip()]
        except ValueError:
            raise ClassroomError(f"points {points!r}: give numbers like 10,7,5") from None
    values = tuple(float(p) for p in points)
    if not values or len(values) > MAX_TRIES:
        raise ClassroomError(f"points: give 1 to {MAX_TRIES} numbers, like 10,7,5")
    if any(not 0 <= p <= 1000 for p in values):
        raise ClassroomError("points: each must be between 0 and 1000")
    return values


def create_class(
    db: Database,
    title: str,
    mode: str = "homework",
    layers: str = "3,2,2",
    activation: str = "sigmoid",
    questions: Sequence[str] | str | None = None,
    learning_rate: float | None = None,
    max_submissions: int | None = None,
    points: Sequence[float] | str | None = None,
) -> Created:
    """A new class with its activity: the network and the questions every variant asks."""
    title = check_name(title, "title", TITLE_MAX)
    if mode not in MODES:
        raise ClassroomError(f"mode {mode!r}: choose {' or '.join(MODES)}")
    rules = MODES[mode]
    sizes = worksheet.parse_layers(layers)
    asked = worksheet.parse_questions(questions)
    # one sheet drawn now checks the activation and the learning rate
    worksheet.generate(0, sizes, activation, asked, learning_rate)
    if max_submissions is None:
        max_submissions = rules.max_submissions
    elif not 1 <= int(max_submissions) <= MAX_TRIES:
        raise ClassroomError(f"max_submissions: must be 1 to {MAX_TRIES}")
    key = secrets.token_urlsafe(32)
    row = {
        "title": title,
        "mode": mode,
        "layers": ",".join(map(str, sizes)),
        "activation": activation,
        "questions": ",".join(asked),
        "learning_rate": learning_rate,
        "max_submissions": max_submissions,
        "points": ",".join(f"{p:g}" for p in _points(points, rules)),
        "teacher_key_hash": digest(key),
        "closed": False,
        "created_at": now(),
    }
    with db.write() as conn:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if conn.scalar(select(classes.c.id).where(classes.c.code == code)) is None:
                break
        conn.execute(classes.insert().values(code=code, **row))
    return Created(code, key)


def _class(conn: Connection, code: str):
    if not is_code(normal_code(code)):
        raise NotFound(f"no class with the code {normal_code(code)!r}")
    row = conn.execute(select(classes).where(classes.c.code == normal_code(code))).one_or_none()
    if row is None:
        raise NotFound(f"no class with the code {normal_code(code)!r}")
    return row


def _open(row) -> None:
    if row.closed:
        raise Conflict(f"the class {row.code} is closed: ask your teacher to reopen it")


def _is_teacher(row, secret: str | None) -> bool:
    return bool(secret) and hmac.compare_digest(digest(secret), row.teacher_key_hash)


def _student_with(conn: Connection, row, secret: str | None):
    if not secret:
        return None
    return conn.execute(
        select(students).where(
            students.c.token_hash == digest(secret), students.c.class_id == row.id
        )
    ).one_or_none()


def _teacher(conn: Connection, code: str, key: str | None):
    """The class, when `key` is its teacher key: 401 without one or a wrong one, 403 for a
    student's token."""
    row = _class(conn, code)
    if not key:
        raise Unauthorized("this needs the class's teacher key (Authorization: Bearer …)")
    if _is_teacher(row, key):
        return row
    if _student_with(conn, row, key) is not None:
        raise Forbidden("a student's token cannot open the teacher's view")
    raise Unauthorized("the teacher key is not right for this class")


def _student(conn: Connection, code: str, token: str | None):
    """(class, student) for a student's token: 401 without one or a wrong one, 403 for the
    teacher key (a teacher does not submit)."""
    row = _class(conn, code)
    if not token:
        raise Unauthorized("join the class first: this needs your student token")
    student = _student_with(conn, row, token)
    if student is not None:
        return row, student
    if _is_teacher(row, token):
        raise Forbidden("the teacher key is not a student's token: join the class as a student")
    raise Unauthorized("this student token is not right for this class; join again")


def check_student(db: Database, code: str, token: str | None) -> int:
    """The student's id, when `token` is a student's token in this class (else 401/403/404)."""
    with db.read() as conn:
        return _student(conn, code, token)[1].id


def check_teacher(db: Database, code: str, key: str | None) -> str:
    """The class's code, when `key` is its teacher key (else 401/403/404)."""
    with db.read() as conn:
        return _teacher(conn, code, key).code


def set_closed(db: Database, code: str, key: str | None, closed: bool) -> dict:
    """Close a class (no joins, no submissions) or reopen it."""
    with db.write() as conn:
        row = _teacher(conn, code, key)
        conn.execute(classes.update().where(classes.c.id == row.id).values(closed=closed))
    return {"code": row.code, "closed": closed}


def close_by_code(db: Database, code: str, closed: bool = True) -> None:
    """Close or reopen a class from this machine's command line (no key needed)."""
    with db.write() as conn:
        row = _class(conn, code)
        conn.execute(classes.update().where(classes.c.id == row.id).values(closed=closed))


def delete_class(db: Database, code: str) -> dict:
    """Delete a class and everything kept about its students; returns what was deleted."""
    with db.write() as conn:
        row = _class(conn, code)
        mine = select(students.c.id).where(students.c.class_id == row.id)
        counts = {
            "submissions": conn.execute(
                submissions.delete().where(submissions.c.class_id == row.id)
            ).rowcount,
            "exercises": conn.execute(
                exercises.delete().where(exercises.c.student_id.in_(mine))
            ).rowcount,
            "students": conn.execute(
                students.delete().where(students.c.class_id == row.id)
            ).rowcount,
        }
        conn.execute(classes.delete().where(classes.c.id == row.id))
    return counts


def list_classes(db: Database) -> list[dict]:
    """Every class with its number of students and submissions, newest first."""
    joined = (
        select(students.c.class_id, func.count().label("n"))
        .group_by(students.c.class_id)
        .subquery()
    )
    sent = (
        select(submissions.c.class_id, func.count().label("n"))
        .group_by(submissions.c.class_id)
        .subquery()
    )
    query = (
        select(
            classes,
            func.coalesce(joined.c.n, 0).label("students"),
            func.coalesce(sent.c.n, 0).label("submissions"),
        )
        .outerjoin(joined, joined.c.class_id == classes.c.id)
        .outerjoin(sent, sent.c.class_id == classes.c.id)
        .order_by(classes.c.created_at.desc(), classes.c.id.desc())
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "code": r.code,
            "title": r.title,
            "mode": r.mode,
            "closed": r.closed,
            "students": r.students,
            "submissions": r.submissions,
            "created_at": utc(r.created_at).isoformat(timespec="seconds"),
        }
        for r in rows
    ]


def class_info(row) -> dict:
    return {
        "code": row.code,
        "title": row.title,
        "mode": row.mode,
        "closed": row.closed,
        "layers": row.layers,
        "activation": row.activation,
        "questions": row.questions.split(","),
        "max_submissions": row.max_submissions,
        "points": [float(p) for p in row.points.split(",")],
    }


def public_info(db: Database, code: str) -> dict:
    """What anyone with the code may see: the title, the mode and whether it is open."""
    with db.read() as conn:
        row = _class(conn, code)
    return {"code": row.code, "title": row.title, "mode": row.mode, "closed": row.closed}


# --- students -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    student_id: int
    student_token: str


def _draw(row, seed: int) -> worksheet.Worksheet:
    return worksheet.generate(
        seed, row.layers, row.activation, row.questions.split(","), row.learning_rate
    )


def join(db: Database, code: str, name: str) -> Joined:
    """A student joins under `name` and gets a token (shown once) and their first variant."""
    name = check_name(name)
    token = secrets.token_urlsafe(24)
    seed = secrets.randbelow(SEEDS)
    with db.write() as conn:
        row = _class(conn, code)
        _open(row)
        sheet = _draw(row, seed)
        stamp = now()
        student_id = conn.execute(
            students.insert()
            .values(class_id=row.id, name=name, token_hash=digest(token), joined_at=stamp)
            .returning(students.c.id)
        ).scalar_one()
        conn.execute(
            exercises.insert().values(
                student_id=student_id, variant=1, seed=seed, sheet=sheet.dumps(), created_at=stamp
            )
        )
    return Joined(student_id, token)


def _current(conn: Connection, student_id: int):
    return conn.execute(
        select(exercises)
        .where(exercises.c.student_id == student_id)
        .order_by(exercises.c.variant.desc())
        .limit(1)
    ).one()


@lru_cache(maxsize=1024)
def sheet_from(text: str) -> worksheet.Worksheet:
    """A stored sheet read back (cached: its solution is worked out once)."""
    sheet = worksheet.loads(text)
    sheet.solution  # noqa: B018 - worked out once, while cached
    return sheet


def _tries(conn: Connection, student_id: int) -> int:
    return conn.scalar(
        select(func.count()).select_from(submissions).where(submissions.c.student_id == student_id)
    )


def _last(conn: Connection, student_id: int):
    return conn.execute(
        select(submissions)
        .where(submissions.c.student_id == student_id)
        .order_by(submissions.c.id.desc())
        .limit(1)
    ).one_or_none()


def _state(row, student, exercise, tries: int, last) -> dict:
    left = None if row.max_submissions is None else max(0, row.max_submissions - tries)
    fresh = (
        MODES[row.mode].fresh_variants
        and not row.closed
        and last is not None
        and last.exercise_id == exercise.id
        and last.right < last.total
    )
    return {
        "class": class_info(row),
        "student": {"id": student.id, "name": student.name},
        "variant": exercise.variant,
        "submissions": tries,
        "submissions_left": left,
        "can_draw_fresh": bool(fresh),
    }


@dataclass(frozen=True)
class Exercise:
    """A student's current variant: the sheet, and where the student stands."""

    sheet: worksheet.Worksheet
    state: dict


def exercise(db: Database, code: str, token: str | None) -> Exercise:
    """The student's current variant (the same one on every call until a fresh one is drawn)."""
    with db.read() as conn:
        row, student = _student(conn, code, token)
        current = _current(conn, student.id)
        state = _state(row, student, current, _tries(conn, student.id), _last(conn, student.id))
    return Exercise(sheet_from(current.sheet), state)


def fresh_variant(db: Database, code: str, token: str | None) -> Exercise:
    """Homework: after a wrong submission, a new variant drawn from a new seed."""
    seed = secrets.randbelow(SEEDS)
    with db.write() as conn:
        row, student = _student(conn, code, token)
        _open(row)
        if not MODES[row.mode].fresh_variants:
            raise Conflict("in an exam every student keeps one variant")
        current = _current(conn, student.id)
        last = _last(conn, student.id)
        if last is None or last.exercise_id != current.id:
            raise Conflict("submit an answer to this exercise first")
        if last.right == last.total:
            raise Conflict("your last submission is right: there is nothing to try again")
        sheet = _draw(row, seed)
        conn.execute(
            exercises.insert().values(
                student_id=student.id,
                variant=current.variant + 1,
                seed=seed,
                sheet=sheet.dumps(),
                created_at=now(),
            )
        )
    return exercise(db, code, token)


def points_for(points: Sequence[float], try_number: int, right: int, total: int) -> float:
    """points[try − 1] × right / total, the last entry standing for every later try."""
    if total == 0:
        return 0.0
    return round(points[min(try_number, len(points)) - 1] * right / total, 4)


def submit(
    db: Database,
    code: str,
    token: str | None,
    answers: Mapping,
    gate: Callable[[int], None] | None = None,
) -> dict:
    """Grade `answers` on the student's current variant and store them (committed) with the
    verdicts; returns the report with the try's number and points. `gate(student_id)`, once
    the student is known, may refuse (the web layer's rate limit)."""
    with db.read() as conn:
        row, student = _student(conn, code, token)
        if gate is not None:
            gate(student.id)
        _open(row)
        current = _current(conn, student.id)
    report = grade(sheet_from(current.sheet), answers)
    with db.write() as conn:
        row = conn.execute(select(classes).where(classes.c.id == row.id)).one()
        _open(row)
        # the student's row locked (PostgreSQL) so two submissions count their tries in turn
        conn.execute(select(students.c.id).where(students.c.id == student.id).with_for_update())
        if _current(conn, student.id).id != current.id:
            raise Conflict("a fresh variant was drawn meanwhile: load your exercise again")
        tries = _tries(conn, student.id)
        if row.max_submissions is not None and tries >= row.max_submissions:
            raise Conflict(
                f"no submissions left: {tries} of {row.max_submissions} used in this class"
            )
        number = tries + 1
        earned = points_for(
            [float(p) for p in row.points.split(",")], number, report["right"], report["total"]
        )
        submission_id = conn.execute(
            submissions.insert()
            .values(
                class_id=row.id,
                student_id=student.id,
                exercise_id=current.id,
                try_number=number,
                answers=json.dumps(dict(answers), default=str),
                report=json.dumps(report),
                tally=json.dumps(tally_of(report)),
                right=report["right"],
                total=report["total"],
                first_wrong=report["first_wrong"],
                slip=slip_of(report),
                points=earned,
                created_at=now(),
            )
            .returning(submissions.c.id)
        ).scalar_one()
    left = None if row.max_submissions is None else row.max_submissions - number
    return {
        **report,
        "submission_id": submission_id,
        "try": number,
        "points": earned,
        "submissions_left": left,
        "can_draw_fresh": MODES[row.mode].fresh_variants and report["right"] < report["total"],
    }


def own_submissions(db: Database, code: str, token: str | None) -> list[dict]:
    """The student's own submissions, oldest first, with their verdicts."""
    with db.read() as conn:
        _row, student = _student(conn, code, token)
        rows = conn.execute(
            select(submissions)
            .where(submissions.c.student_id == student.id)
            .order_by(submissions.c.id)
        ).all()
    return [
        {
            "submission_id": r.id,
            "try": r.try_number,
            "answers": json.loads(r.answers),
            "right": r.right,
            "total": r.total,
            "first_wrong": r.first_wrong,
            "points": r.points,
            "created_at": utc(r.created_at).isoformat(),
            "report": json.loads(r.report),
        }
        for r in rows
    ]


# --- the teacher's view -----------------------------------------------------------------------


def fingerprint(db: Database, code: str, key: str | None) -> tuple:
    """What changes when the dashboard does: the newest submission, the students, closed."""
    with db.read() as conn:
        row = _teacher(conn, code, key)
        last = conn.scalar(
            select(func.max(submissions.c.id)).where(submissions.c.class_id == row.id)
        )
        joined = conn.scalar(
            select(func.count()).select_from(students).where(students.c.class_id == row.id)
        )
    return (last, joined, row.closed)


@lru_cache(maxsize=64)
def asked_steps(layers: str, activation: str, questions: str) -> tuple[str, ...]:
    """The steps every variant of a class asks, in the solution's order."""
    return tuple(worksheet.generate(0, layers, activation, questions.split(",")).asked)


def _roster(conn: Connection, row) -> list[tuple]:
    """(student, submissions, best points, latest submission) for each student, in join order."""
    per_student = (
        select(
            submissions.c.student_id,
            func.count().label("n"),
            func.max(submissions.c.id).label("last_id"),
            func.max(submissions.c.points).label("best"),
        )
        .where(submissions.c.class_id == row.id)
        .group_by(submissions.c.student_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            students.c.id,
            students.c.name,
            per_student.c.n,
            per_student.c.best,
            *(
                submissions.c[k]
                for k in ("id", "tally", "right", "total", "first_wrong", "slip", "created_at")
            ),
        )
        .outerjoin(per_student, per_student.c.student_id == students.c.id)
        .outerjoin(submissions, submissions.c.id == per_student.c.last_id)
        .where(students.c.class_id == row.id)
        .order_by(students.c.id)
    ).all()
    out = []
    for r in rows:
        m = r._mapping
        student = {"id": m[students.c.id], "name": m[students.c.name]}
        last = None
        if m[submissions.c.id] is not None:
            last = {
                "tally": json.loads(m[submissions.c.tally]),
                "right": m[submissions.c.right],
                "total": m[submissions.c.total],
                "first_wrong": m[submissions.c.first_wrong],
                "slip": m[submissions.c.slip],
                "created_at": utc(m[submissions.c.created_at]),
            }
        out.append((student, m[per_student.c.n] or 0, m[per_student.c.best] or 0.0, last))
    return out


def dashboard(db: Database, code: str, key: str | None) -> dict:
    """The class at a glance, from each student's latest submission: per step how many are
    right, carried, wrong or missing; each slip with the share of students who made it; and
    every student with their first wrong step."""
    with db.read() as conn:
        row = _teacher(conn, code, key)
        roster = _roster(conn, row)
    steps = asked_steps(row.layers, row.activation, row.questions)
    tally = {name: Counter() for name in steps}
    slips: Counter = Counter()
    titles: dict[str, str] = {}
    table = []
    submitted = 0
    for student, n, best, last in roster:
        entry = {
            **student,
            "submissions": n,
            "score": best,
            "right": last["right"] if last else 0,
            "total": last["total"] if last else len(steps),
            "first_wrong": last["first_wrong"] if last else None,
            "slip": last["slip"] if last else None,
            "last_submission": last["created_at"].isoformat() if last else None,
        }
        table.append(entry)
        if last is None:
            continue
        submitted += 1
        seen = set()
        for name, status, slip, title in last["tally"]:
            if name in tally:
                # an answer that is not a number counts as wrong
                tally[name][status if status in (RIGHT, CARRIED, MISSING) else WRONG] += 1
            if slip and slip not in seen:
                seen.add(slip)
                slips[slip] += 1
                titles[slip] = title or slip
    return {
        "class": class_info(row),
        "joined": len(table),
        "submitted": submitted,
        "students": table,
        "steps": [
            {
                "name": name,
                RIGHT: tally[name][RIGHT],
                CARRIED: tally[name][CARRIED],
                WRONG: tally[name][WRONG],
                MISSING: tally[name][MISSING],
            }
            for name in steps
        ],
        "slips": [
            {
                "slip": slip,
                "title": titles[slip],
                "count": count,
                "share": round(count / submitted, 4),
            }
            for slip, count in sorted(slips.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


GRADE_COLUMNS = (
    "name",
    "submissions",
    "score",
    "right/total",
    "first wrong step",
    "last submission (UTC)",
)


def _cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def grades_csv(db: Database, code: str, key: str | None = None, *, trusted: bool = False) -> str:
    """The gradebook: one row per student (UTF-8 with a byte-order mark, for spreadsheets)."""
    with db.read() as conn:
        row = _class(conn, code) if trusted else _teacher(conn, code, key)
        roster = _roster(conn, row)
    steps = len(asked_steps(row.layers, row.activation, row.questions))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GRADE_COLUMNS)
    for student, n, best, last in roster:
        writer.writerow(
            [
                _cell(student["name"]),
                n,
                f"{best:g}",
                f"{last['right']}/{last['total']}" if last else f"0/{steps}",
                (last["first_wrong"] or "") if last else "",
                last["created_at"].strftime("%Y-%m-%d %H:%M:%S") if last else "",
            ]
        )
    return "\ufeff" + out.getvalue()
