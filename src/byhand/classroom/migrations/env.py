"""Alembic's environment for the classroom: run on the connection `byhand.classroom.db` hands
over (in `config.attributes["connection"]`), inside the transaction it holds."""

from alembic import context

from byhand.classroom.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
