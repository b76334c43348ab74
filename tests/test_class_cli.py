"""`byhand class` on the server's database (SQLite and PostgreSQL), and `byhand serve
--classroom` making byhand-classroom.db in the working directory."""

from __future__ import annotations

import csv
import json

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from byhand.classroom import db as classroom_db
from byhand.classroom import service
from byhand.cli import main
from byhand.cli.common import app as cli_app
from class_support import database_url, postgresql_url, right_answers, served  # noqa: F401


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, list(args), input=input)
    return result.exit_code, result.output


def test_create_list_grades_and_close_on_one_database(database_url, tmp_path):  # noqa: F811
    code_, out = run(
        "class",
        "create",
        "Lecture 3",
        "--mode",
        "exam",
        "--layers",
        "2,2,1",
        "--questions",
        "forward,loss",
        "--points",
        "10,6",
        "--database",
        database_url,
    )
    assert code_ == 0, out
    code = out.split()[1].rstrip(":")
    key = next(line.split()[-1] for line in out.splitlines() if line.startswith("teacher key:"))
    db = classroom_db.open_database(database_url)
    # the key printed is the class's teacher key
    board = service.dashboard(db, code, key)
    assert board["class"]["points"] == [10, 6] and board["class"]["layers"] == "2,2,1"
    assert board["class"]["max_submissions"] == 3
    ana = service.join(db, code, "Ana")
    sheet = service.exercise(db, code, ana.student_token).sheet
    service.submit(db, code, ana.student_token, right_answers(sheet))

    status, out = run("class", "list", "--json", "--database", database_url)
    listed = {c["code"]: c for c in json.loads(out)}
    assert listed[code]["students"] == 1 and listed[code]["submissions"] == 1

    target = tmp_path / "grades.csv"
    status, out = run(
        "class", "grades", code.lower(), "--out", str(target), "--database", database_url
    )
    assert status == 0 and "(1 student)" in out
    rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1][:4] == ["Ana", "1", "10", f"{len(sheet.asked)}/{len(sheet.asked)}"]

    assert run("class", "close", code, "--database", database_url)[0] == 0
    assert service.public_info(db, code)["closed"] is True
    assert run("class", "close", code, "--reopen", "--database", database_url)[0] == 0
    assert service.public_info(db, code)["closed"] is False

    with db.read() as conn:
        class_id = conn.scalar(
            sa.select(service.classes.c.id).where(service.classes.c.code == code)
        )
        student_ids = list(
            conn.scalars(
                sa.select(service.students.c.id).where(service.students.c.class_id == class_id)
            )
        )
    status, out = run("class", "delete", code, "--database", database_url, input="n\n")
    assert status == 1 and service.public_info(db, code)["code"] == code
    status, out = run("class", "delete", code, "--yes", "--database", database_url)
    assert status == 0 and "1 students, 1 submissions" in out, out
    with db.read() as conn:
        left = [
            conn.scalar(sa.select(sa.func.count()).select_from(table).where(where))
            for table, where in [
                (service.classes, service.classes.c.id == class_id),
                (service.students, service.students.c.class_id == class_id),
                (service.exercises, service.exercises.c.student_id.in_(student_ids)),
                (service.submissions, service.submissions.c.class_id == class_id),
            ]
        ]
    assert student_ids and left == [0, 0, 0, 0]
    with pytest.raises(service.NotFound):
        service.public_info(db, code)
    db.close()


def test_cli_errors_are_one_line(tmp_path, capsys):
    database = str(tmp_path / "c.db")
    assert main(["class", "grades", "QQQQQQ", "--database", database]) == 2
    assert "no class with the code 'QQQQQQ'" in capsys.readouterr().err
    assert main(["class", "create", "T", "--layers", "9,9", "--database", database]) == 2
    assert "every width must be 1 to 4" in capsys.readouterr().err
    assert main(["class", "list", "--database", str(tmp_path / "no" / "c.db")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_serve_classroom_makes_the_database_in_the_working_directory(tmp_path):
    with served(None, cwd=tmp_path) as (base, _proc):
        made = httpx.post(f"{base}/api/classes", json={"title": "Here"}).json()
        assert (tmp_path / "byhand-classroom.db").is_file()
    db = classroom_db.open_database(str(tmp_path / "byhand-classroom.db"))
    assert [c["code"] for c in service.list_classes(db)] == [made["code"]]
    db.close()
