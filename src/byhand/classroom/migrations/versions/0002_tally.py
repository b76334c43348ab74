"""submissions.tally: what the dashboard reads of each report, kept beside it

Revision ID: 0002
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

from byhand.classroom.grading import tally_of

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("tally", sa.Text, nullable=True))
    submissions = sa.table(
        "submissions", sa.column("id", sa.Integer), sa.column("report"), sa.column("tally")
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(submissions.c.id, submissions.c.report)).all()
    for row in rows:
        conn.execute(
            submissions.update()
            .where(submissions.c.id == row.id)
            .values(tally=json.dumps(tally_of(json.loads(row.report))))
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("tally")
