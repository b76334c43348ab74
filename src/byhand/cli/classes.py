"""`byhand class`: make, list, close classes and write their gradebooks, on the server's database.

    byhand class create "Lecture 3" --mode exam     prints the join code and the teacher key
    byhand class list
    byhand class grades CODE --out grades.csv
    byhand class close CODE     (--reopen to open it again)
    byhand class delete CODE    (the class and everything kept about its students)

The database is the one `byhand serve --classroom` uses: byhand-classroom.db in the working
directory, or --database PATH|URL, or $BYHAND_DATABASE_URL.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from byhand import modelfile
from byhand.classroom import db as classroom_db
from byhand.classroom import service
from byhand.cli.common import app, console, print_json
from byhand.errors import ByhandError
from byhand.teach import solution, worksheet


def database_option(command):
    return click.option(
        "--database",
        metavar="PATH|URL",
        envvar=classroom_db.ENV,
        default=None,
        help=f"SQLite file or database URL. Default: {classroom_db.DEFAULT_FILE} here.",
    )(command)


def with_database(command):
    """Open the database for the command as `db`, and close it after."""

    @functools.wraps(command)
    def run(database, **kwargs):
        db = classroom_db.open_database(database)
        try:
            return command(db=db, **kwargs)
        finally:
            db.close()

    return database_option(run)


@app.group(name="class")
def class_group() -> None:
    """Run a class: join codes, a variant per student, a live dashboard, a gradebook."""


@class_group.command(name="create")
@click.argument("title")
@click.option(
    "--mode",
    type=click.Choice(list(service.MODES)),
    default="homework",
    show_default=True,
    help="homework: fresh variants after a wrong try; exam: one variant, few tries.",
)
@click.option("--layers", "-l", default="3,2,2", show_default=True, help="Every variant's widths.")
@click.option("--activation", "-a", type=click.Choice(worksheet.ACTIVATIONS), default="sigmoid")
@click.option(
    "--questions",
    "-q",
    default=",".join(solution.SECTIONS),
    show_default=True,
    help="Sections to ask: forward, loss, gradients, update.",
)
@click.option(
    "--max-submissions",
    type=click.IntRange(1, service.MAX_TRIES),
    default=None,
    help="Submissions per student. Default: 3 in an exam, no limit for homework.",
)
@click.option("--points", default=None, help="Points per try, e.g. 10,7,5 (exam default).")
@with_database
def create(db, title, mode, layers, activation, questions, max_submissions, points):
    """Make a class; print its join code and the teacher key (shown only this once)."""
    made = service.create_class(
        db, title, mode, layers, activation, questions, None, max_submissions, points
    )
    click.echo(f"class {made.code}: {title} ({mode})")
    click.echo(f"join code:    {made.code}   (students open /class/{made.code})")
    click.echo(f"teacher key:  {made.teacher_key}")
    click.echo(f"dashboard:    /class/{made.code}/teacher  (asks for the key once)")
    click.echo("Keep the key: it is stored only as a hash and cannot be shown again.")


@class_group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the classes as JSON.")
@with_database
def list_command(db, as_json):
    """Every class in the database, newest first."""
    found = service.list_classes(db)
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo("no classes yet: make one with 'byhand class create TITLE'")
        return
    table = Table()
    for column in ("code", "title", "mode", "open", "students", "submissions", "created (UTC)"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c["code"],
            Text(c["title"]),  # a title is text, never rich markup
            c["mode"],
            "closed" if c["closed"] else "open",
            str(c["students"]),
            str(c["submissions"]),
            c["created_at"].replace("T", " ")[:16],
        )
    console.print(table)


@class_group.command(name="grades")
@click.argument("code")
@click.option("--out", "-o", metavar="FILE", default=None, help="Write the CSV to FILE.")
@with_database
def grades(db, code, out):
    """Write the gradebook of class CODE as CSV: one row per student."""
    text = service.grades_csv(db, code, trusted=True)
    if out is None:
        click.echo(text.lstrip("\ufeff"), nl=False)
        return
    try:
        modelfile.atomic_write(Path(out), text.encode("utf-8"))
    except OSError as err:
        raise ByhandError(f"cannot write {out}: {err.strerror}") from None
    rows = text.count("\r\n") - 1
    click.echo(f"wrote {out} ({rows} student{'' if rows == 1 else 's'})")


@class_group.command(name="close")
@click.argument("code")
@click.option("--reopen", is_flag=True, help="Open the class again.")
@with_database
def close(db, code, reopen):
    """Close class CODE: no one joins or submits until it is reopened."""
    service.close_by_code(db, code, closed=not reopen)
    click.echo(f"class {service.normal_code(code)} is {'open' if reopen else 'closed'}")


@class_group.command(name="delete")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@with_database
def delete(db, code, yes):
    """Delete class CODE with its students' names, answers and grades, for good."""
    code = service.public_info(db, code)["code"]
    if not yes:
        click.confirm(f"Delete class {code} and everything kept about its students?", abort=True)
    counts = service.delete_class(db, code)
    click.echo(
        f"deleted class {code}: {counts['students']} students, {counts['submissions']} submissions"
    )
