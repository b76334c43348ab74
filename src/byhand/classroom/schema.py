"""The classroom's tables (SQLAlchemy Core). Alembic's migrations in `migrations/` build them.

A class has students; each student has one exercise per variant drawn (a worksheet's seed and
its sheet JSON, as `byhand worksheet` writes it) and every submission with its verdicts.
Secrets are stored as SHA-256 hashes only: the teacher key and each student token are shown
once, when they are made.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

classes = Table(
    "classes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(6), nullable=False, unique=True),
    Column("title", String(120), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("layers", String(20), nullable=False),
    Column("activation", String(20), nullable=False),
    Column("questions", String(60), nullable=False),
    Column("learning_rate", Float, nullable=True),
    #: at most this many submissions per student (None: no limit)
    Column("max_submissions", Integer, nullable=True),
    #: points for a fully right answer at the 1st, 2nd, … try, e.g. "10,7,5"
    Column("points", String(60), nullable=False),
    Column("teacher_key_hash", String(64), nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

students = Table(
    "students",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(60), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("joined_at", DateTime(timezone=True), nullable=False),
)

exercises = Table(
    "exercises",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    #: 1 for the first variant a student gets, 2 for the next, …
    Column("variant", Integer, nullable=False),
    Column("seed", BigInteger, nullable=False),
    #: the sheet as `byhand worksheet` writes it (byhand.worksheet JSON)
    Column("sheet", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    Column("exercise_id", Integer, ForeignKey("exercises.id", ondelete="CASCADE"), nullable=False),
    #: the student's n-th submission in this class
    Column("try_number", Integer, nullable=False),
    #: the answers as sent (JSON)
    Column("answers", Text, nullable=False),
    #: the report as `byhand check --json` prints it (JSON)
    Column("report", Text, nullable=False),
    #: what the dashboard reads of it: [[name, status, slip, slip title], …] (JSON)
    Column("tally", Text, nullable=True),
    Column("right", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("first_wrong", String(40), nullable=True),
    Column("slip", String(40), nullable=True),
    Column("points", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: a token bucket per client and kind of request (byhand.classroom.rates): shared by every
#: server process, so N workers do not give a client N times the rate
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key", String(120), primary_key=True),
    #: tokens left after the last request, and when that was (seconds since the epoch)
    Column("tokens", Float, nullable=False),
    Column("at", Float, nullable=False),
)

Index("ix_students_class", students.c.class_id)
Index("ix_exercises_student", exercises.c.student_id, exercises.c.variant)
Index("ix_submissions_class", submissions.c.class_id, submissions.c.id)
Index("ix_submissions_student", submissions.c.student_id, submissions.c.id)
