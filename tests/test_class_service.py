"""The classroom's storage and rules, on SQLite and on a real PostgreSQL server: migrations,
join codes, one variant per student, grading through the practice checker, exam limits and
points, homework's fresh variants, the dashboard's tallies and the gradebook."""

from __future__ import annotations

import csv
import io
import json
import secrets
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from byhand.classroom import db as classroom_db
from byhand.classroom import service
from byhand.classroom.grading import grade
from byhand.teach import worksheet
from byhand.teach.checker import check as checker
from class_support import (  # noqa: F401 - fixtures
    database_url,
    postgresql_base,
    postgresql_url,
    right_answers,
    slipped_answers,
)


@pytest.fixture
def db(database_url):  # noqa: F811
    database = classroom_db.open_database(database_url)
    yield database
    database.close()


def test_opening_migrates_to_the_newest_schema_and_sqlite_is_in_wal_mode(db):
    assert db.revision() == classroom_db.head() == "0003"
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {"classes", "students", "exercises", "submissions", "alembic_version"} <= tables
    if db.backend == "sqlite":
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            # 2 = FULL: a commit is on disk before the server answers
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    # opening again (a second worker, a restart) finds nothing to do
    again = classroom_db.open_database(db.url)
    assert again.revision() == "0003"
    again.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_workers_opening_a_new_database_together_take_turns_migrating(backend, tmp_path):
    """Four engines (as four worker processes would) migrate one empty database at once."""
    from concurrent.futures import ThreadPoolExecutor

    if backend == "sqlite":
        url, cleanup = str(tmp_path / "together.db"), None
    else:
        base = postgresql_base()
        schema = f"byhand_together_{secrets.token_hex(3)}"
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}?options={quote(f'-csearch_path={schema}')}"

        def cleanup():
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    try:
        with ThreadPoolExecutor(4) as pool:
            opened = list(pool.map(lambda _: classroom_db.open_database(url), range(4)))
        assert [d.revision() for d in opened] == ["0003"] * 4
        for d in opened:
            d.close()
    finally:
        if cleanup:
            cleanup()


def test_a_database_made_by_the_first_schema_is_migrated_with_its_data(tmp_path):
    from alembic import command

    url = classroom_db.resolve(str(tmp_path / "old.db"))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(classroom_db._alembic(conn), "0001")
    old = classroom_db.Database(url, engine)
    made = service.create_class(old, "Old")
    service.join(old, made.code, "Ana")
    with engine.begin() as conn:
        sheet = service.sheet_from(conn.execute(sa.text("SELECT sheet FROM exercises")).scalar())
    report = grade(sheet, slipped_answers(sheet, "sign"))
    row = {
        "class_id": 1,
        "student_id": 1,
        "exercise_id": 1,
        "try_number": 1,
        "answers": "{}",
        "report": json.dumps(report),
        "right": report["right"],
        "total": report["total"],
        "first_wrong": report["first_wrong"],
        "slip": "sign",
        "points": 0.0,
        "created_at": service.now(),
    }
    with engine.begin() as conn:
        # the first schema's columns only
        conn.execute(sa.table("submissions", *map(sa.column, row)).insert().values(**row))
    engine.dispose()
    db = classroom_db.open_database(url)
    assert db.revision() == "0003"
    board = service.dashboard(db, made.code, made.teacher_key)
    assert board["slips"][0]["slip"] == "sign" and board["submitted"] == 1
    wrong = {s["name"]: s["wrong"] for s in board["steps"]}
    assert wrong["δ_o1"] == 1 and wrong["h1"] == 0
    db.close()


def test_the_default_file_is_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(classroom_db.ENV, raising=False)
    assert classroom_db.resolve() == f"sqlite:///{tmp_path / 'byhand-classroom.db'}"
    monkeypatch.setenv(classroom_db.ENV, "postgresql://u:p@h/d")
    assert classroom_db.resolve() == "postgresql+psycopg://u:p@h/d"
    assert classroom_db.shown(classroom_db.resolve()) == "postgresql+psycopg://u:***@h/d"


def test_codes_are_short_unambiguous_and_the_key_is_stored_hashed(db):
    made = [service.create_class(db, f"Class {i}") for i in range(20)]
    for m in made:
        assert len(m.code) == 6 and set(m.code) <= set(service.CODE_ALPHABET)
        assert not set(m.code) & set("IL O01")
        assert len(m.teacher_key) >= 40
    assert len({m.code for m in made}) == 20
    with db.read() as conn:
        stored = conn.execute(sa.select(service.classes.c.teacher_key_hash)).scalars().all()
    assert not any(m.teacher_key in s for m in made for s in stored)
    listed = {c["code"] for c in service.list_classes(db)}
    assert {m.code for m in made} <= listed


def test_bad_settings_are_refused_naming_the_setting(db):
    for kwargs, words in [
        ({"mode": "quiz"}, "mode 'quiz'"),
        ({"layers": "3,9,2"}, "every width must be 1 to 4"),
        ({"activation": "softmax"}, "activation 'softmax'"),
        ({"questions": ["forward", "art"]}, "questions: art"),
        ({"points": "10,x"}, "points '10,x'"),
        ({"max_submissions": 0}, "max_submissions"),
    ]:
        with pytest.raises(service.ByhandError, match=words):
            service.create_class(db, "T", **kwargs)
    for title in ["", "   ", "x" * 121, "a\x00b"]:
        with pytest.raises(service.ClassroomError, match="title"):
            service.create_class(db, title)


def test_each_student_keeps_their_own_variant(db):
    made = service.create_class(db, "Variants", layers="2,2,1", questions="forward,loss")
    ana = service.join(db, made.code, "Ana")
    ben = service.join(db, made.code, "Ben")
    first = service.exercise(db, made.code, ana.student_token)
    again = service.exercise(db, made.code, ana.student_token)
    other = service.exercise(db, made.code, ben.student_token)
    assert first.sheet.to_dict() == again.sheet.to_dict()
    assert first.sheet.to_dict()["format"] == worksheet.FORMAT
    assert first.sheet.net.sizes == [2, 2, 1] and first.sheet.questions == ["forward", "loss"]
    # the variant is the worksheet generator's, drawn from the student's seed
    assert worksheet.generate(first.sheet.seed, "2,2,1", "sigmoid", "forward,loss").to_dict() == (
        first.sheet.to_dict()
    )
    assert first.sheet.seed != other.sheet.seed
    # the code is typed by students: any case, spaces around
    assert service.exercise(db, f" {made.code.lower()} ", ana.student_token).state["variant"] == 1


def test_a_submission_is_graded_by_the_checker_and_stored(db):
    made = service.create_class(db, "Grades")
    ana = service.join(db, made.code, "Ana")
    sheet = service.exercise(db, made.code, ana.student_token).sheet
    answers = slipped_answers(sheet, "sign")
    result = service.submit(db, made.code, ana.student_token, answers)
    # the verdicts are those `byhand check --json` gives for the same sheet and answers
    expected = checker(sheet.solution, answers, sheet.asked).to_dict()
    assert {k: result[k] for k in expected} == expected
    assert grade(sheet, answers) == expected
    assert result["first_wrong"] == "δ_o1"
    with db.read() as conn:
        row = conn.execute(
            sa.select(service.submissions).where(
                service.submissions.c.id == result["submission_id"]
            )
        ).one()
    assert json.loads(row.report) == expected
    assert json.loads(row.answers) == answers
    assert (row.right, row.total, row.first_wrong, row.slip) == (
        expected["right"],
        expected["total"],
        "δ_o1",
        "sign",
    )
    mine = service.own_submissions(db, made.code, ana.student_token)
    assert [s["submission_id"] for s in mine] == [result["submission_id"]]


def test_an_answer_that_is_not_a_number_is_marked_and_the_rest_graded(db):
    made = service.create_class(db, "Invalid", questions="forward")
    ana = service.join(db, made.code, "Ana")
    sheet = service.exercise(db, made.code, ana.student_token).sheet
    answers = {**right_answers(sheet), "h1": "about one"}
    result = service.submit(db, made.code, ana.student_token, answers)
    assert result["invalid"] == 1 and result["right"] == len(sheet.asked) - 1
    with pytest.raises(service.ByhandError, match="unknown quantity 'w99'"):
        service.submit(db, made.code, ana.student_token, {"w99": 1})


def test_exam_allows_n_submissions_with_points_falling_per_try(db):
    made = service.create_class(db, "Exam", mode="exam", questions="forward,loss")
    assert service.dashboard(db, made.code, made.teacher_key)["class"]["points"] == [10, 7, 5]
    ana = service.join(db, made.code, "Ana")
    sheet = service.exercise(db, made.code, ana.student_token).sheet
    right = right_answers(sheet)
    n = len(sheet.asked)
    half = dict(right)
    for name in list(half)[: n // 2]:
        half[name] = half[name] + 1
    first = service.submit(db, made.code, ana.student_token, half)
    # 10 × right / total on the first try
    assert first["points"] == pytest.approx(10 * first["right"] / n, abs=1e-4)
    assert first["submissions_left"] == 2 and not first["can_draw_fresh"]
    second = service.submit(db, made.code, ana.student_token, right)
    assert second["points"] == 7 and second["try"] == 2
    with pytest.raises(service.Conflict, match="one variant"):
        service.fresh_variant(db, made.code, ana.student_token)
    third = service.submit(db, made.code, ana.student_token, half)
    assert third["points"] == pytest.approx(5 * third["right"] / n, abs=1e-4)
    with pytest.raises(service.Conflict, match="no submissions left: 3 of 3"):
        service.submit(db, made.code, ana.student_token, right)
    # the score is the best try's: 7 for the second
    assert service.dashboard(db, made.code, made.teacher_key)["students"][0]["score"] == 7


def test_points_per_try_are_the_class_setting():
    assert service.points_for([10, 7, 5], 1, 4, 4) == 10
    assert service.points_for([10, 7, 5], 3, 2, 4) == 2.5
    # later tries keep the last entry
    assert service.points_for([10, 7, 5], 9, 4, 4) == 5


def test_homework_draws_a_fresh_variant_only_after_a_wrong_submission(db):
    made = service.create_class(db, "Homework", questions="forward")
    ana = service.join(db, made.code, "Ana")
    first = service.exercise(db, made.code, ana.student_token)
    with pytest.raises(service.Conflict, match="submit an answer to this exercise first"):
        service.fresh_variant(db, made.code, ana.student_token)
    wrong = service.submit(db, made.code, ana.student_token, {"h1": 0.123456})
    assert wrong["can_draw_fresh"]
    assert service.exercise(db, made.code, ana.student_token).state["can_draw_fresh"]
    fresh = service.fresh_variant(db, made.code, ana.student_token)
    assert fresh.state["variant"] == 2 and fresh.sheet.seed != first.sheet.seed
    assert service.exercise(db, made.code, ana.student_token).sheet.seed == fresh.sheet.seed
    right = service.submit(db, made.code, ana.student_token, right_answers(fresh.sheet))
    assert right["all_right"] and not right["can_draw_fresh"]
    with pytest.raises(service.Conflict, match="your last submission is right"):
        service.fresh_variant(db, made.code, ana.student_token)


def test_a_closed_class_refuses_joins_and_submissions_until_reopened(db):
    made = service.create_class(db, "Closing")
    ana = service.join(db, made.code, "Ana")
    service.set_closed(db, made.code, made.teacher_key, True)
    with pytest.raises(service.Conflict, match="closed"):
        service.join(db, made.code, "Ben")
    with pytest.raises(service.Conflict, match="closed"):
        service.submit(db, made.code, ana.student_token, {"h1": 0.5})
    service.close_by_code(db, made.code, closed=False)
    service.join(db, made.code, "Ben")


def test_tokens_name_one_student_of_one_class(db):
    one = service.create_class(db, "One")
    two = service.create_class(db, "Two")
    ana = service.join(db, one.code, "Ana")
    with pytest.raises(service.Unauthorized):
        service.exercise(db, two.code, ana.student_token)
    with pytest.raises(service.Unauthorized):
        service.exercise(db, one.code, None)
    with pytest.raises(service.Forbidden):
        service.exercise(db, one.code, one.teacher_key)
    with pytest.raises(service.Forbidden):
        service.dashboard(db, one.code, ana.student_token)
    with pytest.raises(service.Unauthorized):
        service.dashboard(db, one.code, two.teacher_key)
    with pytest.raises(service.NotFound):
        service.dashboard(db, "ZZZZZZ", one.teacher_key)


def test_names_are_trimmed_and_limited(db):
    made = service.create_class(db, "Names")
    for bad in ["", "  ", "x" * 61, "zero\u200bwidth", "bell\x07"]:
        with pytest.raises(service.ClassroomError, match="name"):
            service.join(db, made.code, bad)
    service.join(db, made.code, "  Zoë   van  Dijk ")
    service.join(db, made.code, "x" * 60)
    names = [s["name"] for s in service.dashboard(db, made.code, made.teacher_key)["students"]]
    assert names == ["Zoë van Dijk", "x" * 60]


def test_the_dashboard_tallies_each_students_latest_submission(db):
    made = service.create_class(db, "Tallies")
    tokens = {n: service.join(db, made.code, n).student_token for n in ["Ana", "Ben", "Cem", "Dan"]}
    sheets = {n: service.exercise(db, made.code, t).sheet for n, t in tokens.items()}
    # Ana first wrong, then right: only her latest submission counts
    service.submit(db, made.code, tokens["Ana"], slipped_answers(sheets["Ana"], "sign"))
    service.submit(db, made.code, tokens["Ana"], right_answers(sheets["Ana"]))
    service.submit(db, made.code, tokens["Ben"], slipped_answers(sheets["Ben"], "sign"))
    service.submit(db, made.code, tokens["Cem"], slipped_answers(sheets["Cem"], "f_not_prime"))
    # Dan has joined and not submitted
    board = service.dashboard(db, made.code, made.teacher_key)
    assert board["joined"] == 4 and board["submitted"] == 3
    by_name = {s["name"]: s for s in board["students"]}
    assert by_name["Ana"]["submissions"] == 2 and by_name["Ana"]["first_wrong"] is None
    assert by_name["Ben"]["first_wrong"] == "δ_o1" and by_name["Ben"]["slip"] == "sign"
    assert by_name["Cem"]["slip"] == "f_not_prime"
    assert by_name["Dan"]["submissions"] == 0 and by_name["Dan"]["last_submission"] is None
    # the expected tallies, from the checker's own reports for the same answers
    reports = [
        checker(sheets[n].solution, a, sheets[n].asked).to_dict()
        for n, a in [
            ("Ana", right_answers(sheets["Ana"])),
            ("Ben", slipped_answers(sheets["Ben"], "sign")),
            ("Cem", slipped_answers(sheets["Cem"], "f_not_prime")),
        ]
    ]
    for step in board["steps"]:
        statuses = [
            next(v["status"] for v in r["verdicts"] if v["name"] == step["name"]) for r in reports
        ]
        for key in ("right", "carried", "wrong", "missing"):
            assert step[key] == statuses.count(key), (step, statuses)
        assert step["right"] + step["carried"] + step["wrong"] + step["missing"] == 3
    assert [s["name"] for s in board["steps"]] == sheets["Ana"].asked
    slips = {s["slip"]: s for s in board["slips"]}
    assert slips["sign"]["count"] == 1 and slips["sign"]["share"] == pytest.approx(1 / 3, abs=1e-4)
    assert slips["sign"]["title"] == "sign error in (o − y)"
    assert slips["f_not_prime"]["count"] == 1


def test_the_gradebook_has_one_row_per_student(db):
    made = service.create_class(db, "Book", mode="exam", questions="forward")
    ana = service.join(db, made.code, "=HYPERLINK(1)")
    service.join(db, made.code, "Ben")
    sheet = service.exercise(db, made.code, ana.student_token).sheet
    service.submit(db, made.code, ana.student_token, right_answers(sheet))
    text = service.grades_csv(db, made.code, made.teacher_key)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == list(service.GRADE_COLUMNS)
    n = len(sheet.asked)
    # a name that would start a formula is written as text
    assert rows[1][:5] == ["'=HYPERLINK(1)", "1", "10", f"{n}/{n}", ""]
    assert rows[1][5][:4].isdigit()
    assert rows[2][:5] == ["Ben", "0", "0", f"0/{n}", ""]
    assert len(rows) == 3
