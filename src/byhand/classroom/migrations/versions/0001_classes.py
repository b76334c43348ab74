"""classes, students, exercises, submissions

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(6), nullable=False, unique=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("layers", sa.String(20), nullable=False),
        sa.Column("activation", sa.String(20), nullable=False),
        sa.Column("questions", sa.String(60), nullable=False),
        sa.Column("learning_rate", sa.Float, nullable=True),
        sa.Column("max_submissions", sa.Integer, nullable=True),
        sa.Column("points", sa.String(60), nullable=False),
        sa.Column("teacher_key_hash", sa.String(64), nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "class_id",
            sa.Integer,
            sa.ForeignKey("classes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("joined_at", STAMP, nullable=False),
    )
    op.create_index("ix_students_class", "students", ["class_id"])
    op.create_table(
        "exercises",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "student_id",
            sa.Integer,
            sa.ForeignKey("students.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("variant", sa.Integer, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("sheet", sa.Text, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
    )
    op.create_index("ix_exercises_student", "exercises", ["student_id", "variant"])
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "class_id",
            sa.Integer,
            sa.ForeignKey("classes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "student_id",
            sa.Integer,
            sa.ForeignKey("students.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "exercise_id",
            sa.Integer,
            sa.ForeignKey("exercises.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("try_number", sa.Integer, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("right", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("first_wrong", sa.String(40), nullable=True),
        sa.Column("slip", sa.String(40), nullable=True),
        sa.Column("points", sa.Float, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
    )
    op.create_index("ix_submissions_class", "submissions", ["class_id", "id"])
    op.create_index("ix_submissions_student", "submissions", ["student_id", "id"])


def downgrade() -> None:
    for table in ("submissions", "exercises", "students", "classes"):
        op.drop_table(table)
