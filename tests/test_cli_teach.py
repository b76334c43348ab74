"""`byhand solve`, `byhand worksheet` and `byhand check`, run as a user runs them."""

from __future__ import annotations

import json
import math
import shlex

import pytest
import yaml

from byhand import lecture_network, modelfile
from byhand.cli import main
from byhand.teach.worksheet import loads


def asked(value: float) -> float:
    """A value as the sheet asks for it: 4 decimals, or 3 significant figures below 0.1."""
    if value == 0 or abs(value) >= 0.1:
        return round(value, 4)
    return round(value, 2 - math.floor(math.log10(abs(value))))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_solve_writes_the_lectures_step(capsys):
    status, out, _ = run(capsys, "solve")
    assert status == 0
    h = sig(3.0)  # by hand: z_h1 = 1 + 0 + 1 + 1
    o = sig(2 * h + 1)
    assert f"h1 = σ(z_h1) = σ(3) = {h:.7f}" in out
    assert f"o1 = σ(z_o1) = σ({2 * h + 1:.7f}) = {o:.7f}" in out
    grad = (o - 1) * o * (1 - o) * h
    assert "∂L/∂w31 = δ_o1·h1 = " in out and f"= −{abs(grad):.7f}" in out
    assert f"w31_new = w31 − η·∂L/∂w31 = 1 − 0.5·(−{abs(grad):.7f}) = {1 - 0.5 * grad:.7f}" in out


def test_solve_json_and_formats(capsys, tmp_path):
    status, out, _ = run(capsys, "solve", "--format", "json", "--lr", "0.1")
    assert status == 0
    steps = {s["name"]: s["value"] for s in json.loads(out)["steps"]}
    net = lecture_network()
    back = net.gradients([1, 0, 1], [1, 0])
    assert steps["dL/dw11"] == back.grad_W[0][0, 0]
    assert steps["b4_new"] == 1 - 0.1 * back.grad_b[1][1]
    for fmt, marker in [("md", "$$"), ("tex", r"\begin{align*}"), ("html", "<math")]:
        target = tmp_path / f"solution.{fmt}"
        status, out, _ = run(capsys, "solve", "-f", fmt, "-o", str(target))
        assert status == 0 and marker in target.read_text()


def test_solve_with_a_model_file(capsys, tmp_path):
    net = lecture_network()
    net["w31"] = -0.5
    path = tmp_path / "net.json"
    modelfile.save(net, path)
    status, out, _ = run(capsys, "solve", "-m", str(path), "-x", "0.5,0.2,0.1", "-y", "0,1")
    assert status == 0
    assert "z_h1 = w11·x1 + w12·x2 + w13·x3 + b1 = 1·0.5 + 1·0.2 + 1·0.1 + 1 = 1.8" in out
    assert "(−0.5)·" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "-x", "1,2"], "expected 3 inputs"),
        (["solve", "--lr", "abc"], "--lr"),
        (["solve", "-f", "pdf"], "pdf"),
        (["worksheet", "--layers", "3,9"], "width"),
        (["worksheet", "--seed", "-4"], "seed"),
        (["worksheet", "--questions", "all"], "questions"),
    ],
)
def test_bad_input_is_one_line(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["solve", "worksheet"])
@pytest.mark.parametrize("lr", ["0", "-3", "nan", "inf"])
def test_the_learning_rate_is_a_positive_finite_number(capsys, tmp_path, command, lr):
    # the engine's rule (Network.step): 0 < η < ∞; every --lr reads it through one option type
    status, _, err = run(
        capsys, command, "--lr", lr, *(["-o", str(tmp_path)] * (command == "worksheet"))
    )
    assert status == 2
    assert f"'--lr': the learning rate must be a positive number, not {lr}" in err
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_worksheet_then_check(capsys, tmp_path):
    status, out, _ = run(capsys, "worksheet", "--seed", "12", "--out", str(tmp_path))
    assert status == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "worksheet-12-answers.yaml",
        "worksheet-12-key.md",
        "worksheet-12.json",
        "worksheet-12.md",
    ]
    first = {p.name: p.read_text() for p in tmp_path.iterdir()}
    run(capsys, "worksheet", "--seed", "12", "--out", str(tmp_path))
    assert first == {p.name: p.read_text() for p in tmp_path.iterdir()}

    sheet = loads(first["worksheet-12.json"])
    form = yaml.safe_load(first["worksheet-12-answers.yaml"])
    assert list(form) == sheet.asked and all(v is None for v in form.values())
    assert "$$" not in first["worksheet-12.md"].split("## Questions")[1]  # no answers there
    for step in sheet.solution.steps:
        assert f"`{step.name}`" in first["worksheet-12.md"]

    sheet_file = str(tmp_path / "worksheet-12.json")
    answers = tmp_path / "mine.yaml"
    answers.write_text(
        "\n".join(f"{s.name}: {asked(s.value)}" for s in sheet.solution.steps) + "\n"
    )
    status, out, _ = run(capsys, "check", sheet_file, str(answers))
    assert status == 0 and "every step is right" in out

    # forgetting the ½: L doubles, everything else stays right
    values = {s.name: asked(s.value) for s in sheet.solution.steps}
    values["L"] = asked(2 * sheet.solution.values["L"])
    answers.write_text(json.dumps(values))
    status, out, _ = run(capsys, "check", sheet_file, str(answers))
    assert status == 1
    # the message shows what the student wrote
    assert f"✗ L = {values['L']} is wrong: the ½ in L = ½ Σ (o − y)² is missing" in out
    status, _, err = run(capsys, "check", sheet_file, str(answers), "--lr", "0.1")
    assert status == 2 and "--lr" in err
    status, out, _ = run(capsys, "check", sheet_file, str(answers), "--json")
    report = json.loads(out)
    assert report["first_wrong"] == "L" and report["right"] == report["total"] - 1


def test_one_answer_not_a_number_leaves_the_others_graded(capsys, tmp_path):
    run(capsys, "worksheet", "--seed", "12", "--out", str(tmp_path))
    sheet = loads((tmp_path / "worksheet-12.json").read_text())
    lines = [f"{s.name}: {asked(s.value)}" for s in sheet.solution.steps]
    bad = next(k for k, line in enumerate(lines) if line.startswith("dL/dw"))
    name = lines[bad].split(":")[0]
    lines[bad] = f"{name}: abc"
    answers = tmp_path / "mine.yaml"
    answers.write_text("\n".join(lines) + "\n")
    status, out, err = run(capsys, "check", str(tmp_path / "worksheet-12.json"), str(answers))
    assert status == 1 and err == ""
    marks = [line for line in out.splitlines() if line[:2] in ("✓ ", "✗ ", "→ ", "· ", "? ")]
    assert len(marks) == len(lines)
    assert marks[bad] == f"? {name}: 'abc' is not a number: write it like 0.9526 or -0.0024"
    assert all(m.startswith("✓ ") for k, m in enumerate(marks) if k != bad)
    total = len(sheet.asked)
    assert out.splitlines()[-1] == f"{total - 1} of {total} right (1 not a number)"
    status, out, _ = run(
        capsys, "check", str(tmp_path / "worksheet-12.json"), str(answers), "--json"
    )
    report = json.loads(out)
    assert status == 1 and report["invalid"] == 1 and report["right"] == total - 1


def test_the_sheets_check_line_runs_from_where_the_worksheet_was_made(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "worksheet", "--seed", "5", "--out", "class a/week 1")
    assert status == 0
    folder = tmp_path / "class a" / "week 1"
    command = (
        "byhand check 'class a/week 1/worksheet-5.json' 'class a/week 1/worksheet-5-answers.yaml'"
    )
    assert out.splitlines()[-1] == f"check the answers with: {command}"
    assert f"# then run: {command}\n" in (folder / "worksheet-5-answers.yaml").read_text()
    assert f"check them with: {command}" in (folder / "worksheet-5.md").read_text()
    sheet = loads((folder / "worksheet-5.json").read_text())
    (folder / "worksheet-5-answers.yaml").write_text(
        "".join(f"{s.name}: {asked(s.value)}\n" for s in sheet.solution.steps)
    )
    status, out, err = run(capsys, *shlex.split(command)[1:])
    assert status == 0 and "every step is right" in out, err
    # in the current folder the line names the files alone
    status, out, _ = run(capsys, "worksheet", "--seed", "5")
    assert out.splitlines()[-1].endswith("byhand check worksheet-5.json worksheet-5-answers.yaml")


def test_check_against_a_model_file_and_bad_files(capsys, tmp_path):
    path = tmp_path / "net.json"
    modelfile.save(lecture_network(), path)
    answers = tmp_path / "a.yaml"
    answers.write_text("h1: 0.9526\no1: 0.9\n")
    status, out, _ = run(capsys, "check", str(path), str(answers))
    assert status == 1
    assert "o1 = 0.9 is wrong but h1 is right" in out
    answers.write_text("h1: [0.9")
    status, _, err = run(capsys, "check", str(path), str(answers))
    assert status == 2 and "not valid JSON or YAML" in err
    status, _, err = run(capsys, "check", str(tmp_path / "none.json"), str(answers))
    assert status == 2 and "no such file" in err
    (tmp_path / "x.json").write_text('{"format": "byhand.worksheet", "version": 1}')
    status, _, err = run(capsys, "check", str(tmp_path / "x.json"), str(answers))
    assert status == 2 and "missing" in err
