"""`byhand solve`, `byhand worksheet`, `byhand check`: practice the lecture by hand."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import click
import yaml

from byhand import files, lecture, limits, modelfile
from byhand.cli.common import (
    app,
    inputs_option,
    load_model,
    lr_option,
    model_option,
    print_json,
    resolve_inputs,
    resolve_target,
    target_option,
)
from byhand.errors import ByhandError
from byhand.teach import render, solution, worksheet
from byhand.teach.checker import check as grade
from byhand.teach.checker import read_answers

#: the largest answers or sheet file read, in bytes
MAX_FILE_BYTES = limits.SHEET_FILE_BYTES
MARKS = {"right": "✓", "wrong": "✗", "carried": "→", "missing": "·", "invalid": "?"}
EXTENSIONS = {"text": "txt", "md": "md", "tex": "tex", "html": "html"}


def _learning_rate(lr: float | None) -> float:
    return lecture.LEARNING_RATE if lr is None else lr


def _read(path: str, what: str) -> str:
    """A sheet's or an answers file's text: a regular file of at most MAX_FILE_BYTES."""
    return files.read_text(path, MAX_FILE_BYTES, what)


def _without_aliases(text: str, source: str) -> str:
    """Refuse YAML anchors and aliases (&a … *a): a few hundred bytes of them can stand for
    gigabytes once expanded, and an answers file never needs them."""
    if "*" in text:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            for event in yaml.parse(text, Loader=loader):
                if isinstance(event, yaml.AliasEvent):
                    raise ByhandError(f"{source}: YAML aliases (*name) are not allowed")
        except yaml.YAMLError:
            pass  # not YAML: read_answers says what is wrong
    return text


def _write(path: Path, text: str) -> None:
    try:
        modelfile.atomic_write(path, text.encode("utf-8"))
    except OSError as err:
        raise ByhandError(f"cannot write {path}: {err.strerror}") from None


@app.command()
@model_option
@inputs_option
@target_option
@lr_option("Learning rate. Default: 0.5.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "md", "tex", "html", "json"]),
    default="text",
    show_default=True,
    help="Plain text, Markdown, a LaTeX document, an HTML page (MathML), or JSON.",
)
@click.option(
    "--digits", type=click.IntRange(1, 15), default=7, show_default=True, help="Decimals shown."
)
@click.option("--out", "-o", "out", metavar="FILE", default=None, help="Write to FILE.")
def solve(model, inputs, target, lr, fmt, digits, out):
    """Write the worked solution of one training step: forward, loss, every δ, gradient, update."""
    net = load_model(model)
    sol = solution.solve(
        net, resolve_inputs(net, inputs), resolve_target(net, target), _learning_rate(lr)
    )
    if fmt == "json":
        text = json.dumps(sol.to_dict(digits), indent=2, allow_nan=False) + "\n"
    else:
        text = render.render_solution(sol, fmt, digits)
    if out is None:
        click.echo(text, nl=False)
    else:
        _write(Path(out), text)
        click.echo(f"wrote {out}")


@app.command(name="worksheet")
@click.option(
    "--seed",
    "-s",
    type=click.IntRange(0, worksheet.MAX_SEED),
    default=None,
    help="The same seed always gives the same sheet. Default: a new one, printed.",
)
@click.option(
    "--layers",
    "-l",
    default="3,2,2",
    show_default=True,
    help="Widths from inputs to outputs (1 to 3 layers of neurons, 4 wide at most).",
)
@click.option(
    "--activation",
    "-a",
    type=click.Choice(worksheet.ACTIVATIONS),
    default="sigmoid",
    show_default=True,
)
@click.option(
    "--questions",
    "-q",
    default=",".join(solution.SECTIONS),
    show_default=True,
    help="Sections to ask: forward, loss, gradients, update.",
)
@lr_option("Learning rate. Default: drawn from 0.1, 0.5, 1.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["md", "tex", "html"]),
    default="md",
    show_default=True,
)
@click.option(
    "--out",
    "-o",
    "out",
    metavar="DIR",
    default=".",
    show_default=True,
    help="Folder for the exercise, its answer key, the sheet file and an answers form.",
)
def worksheet_command(seed, layers, activation, questions, lr, fmt, out):
    """Draw an exercise with friendly numbers and write it with its answer key."""
    if seed is None:
        seed = secrets.randbelow(1_000_000)
    sheet = worksheet.generate(seed, layers, activation, questions, lr)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ByhandError(f"--out {out}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ByhandError(f"--out {out}: cannot create the folder ({err.strerror})") from None
    ext = EXTENSIONS[fmt]
    # the sheet's `byhand check` line names the files as --out does: it runs from here
    files = {
        folder / f"{sheet.name}.{ext}": render.write(render.exercise_document(sheet, out), fmt),
        folder / f"{sheet.name}-key.{ext}": render.write(render.key_document(sheet), fmt),
        folder / f"{sheet.name}.json": sheet.dumps(),
        folder / f"{sheet.name}-answers.yaml": render.answers_template(sheet, out),
    }
    for path, text in files.items():
        _write(path, text)
    click.echo(f"worksheet seed {seed}: {len(sheet.asked)} questions")
    for path in files:
        click.echo(f"wrote {path}")
    click.echo(f"check the answers with: {render.check_command(sheet, out)}")


def _load_sheet(path: str, inputs, target, lr) -> tuple[solution.Solution, list[str] | None]:
    """A worksheet's solution and questions, or a model file's with the given sample."""
    text = _read(path, "sheet")
    try:
        data = json.loads(text)
    except ValueError:
        raise ByhandError(
            f"sheet {path}: not valid JSON (give the .json a worksheet wrote)"
        ) from None
    if isinstance(data, dict) and data.get("format") == modelfile.FORMAT:
        net = modelfile.from_dict(data)
        sol = solution.solve(
            net, resolve_inputs(net, inputs), resolve_target(net, target), _learning_rate(lr)
        )
        return sol, None
    for option, value in (("--inputs", inputs), ("--target", target), ("--lr", lr)):
        if value is not None:
            raise ByhandError(f"{option}: the worksheet {path} fixes it already; leave it out")
    sheet = worksheet.from_dict(data)
    return sheet.solution, sheet.asked


@app.command(name="check")
@click.argument("sheet", metavar="SHEET")
@click.argument("answers", metavar="ANSWERS")
@inputs_option
@target_option
@lr_option("Learning rate, when SHEET is a model file. Default: 0.5.")
@click.option("--json", "as_json", is_flag=True, help="Print the grades as JSON.")
def check_command(sheet, answers, inputs, target, lr, as_json):
    """Grade hand-worked ANSWERS (JSON or YAML: h1: 0.9526, dL/dw31: …) against SHEET.

    SHEET is the .json file `byhand worksheet` wrote, or a model file (then --inputs,
    --target and --lr give the sample). Each wrong answer says which step went wrong, and
    how; an answer that is not a number is marked so and the others are still graded. Exit
    status 0 when every answer is right, 1 when some are wrong, missing or not a number, 2 when
    a file or option cannot be used.
    """
    sol, asked = _load_sheet(sheet, inputs, target, lr)
    source = f"answers {answers}"
    text = _without_aliases(_read(answers, "answers"), source)
    given = read_answers(text, source, keep_invalid=True)
    report = grade(sol, given, asked)
    if as_json:
        print_json(report.to_dict())
    else:
        for v in report.verdicts:
            click.echo(f"{MARKS[v.status]} {v.message}")
        click.echo("")
        click.echo(report.summary)
    if not report.all_right:
        # a status a script can test; SystemExit passes through `main` as it is
        raise SystemExit(1)
