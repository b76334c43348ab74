"""Start-up: a command imports only what it uses, and the command table matches the commands.

Nothing here is timed (benchmarks/cli_speed.py measures wall time); these tests pin which
modules a command leaves alone, read from sys.modules in a fresh interpreter."""

import inspect
import json
import subprocess
import sys

import pytest

import byhand.cli
from byhand.cli import COMMANDS, main
from byhand.cli.common import app

#: modules a forward pass on the lecture's network has no use for
HEAVY = (
    "sklearn",
    "scipy",
    "matplotlib",
    "latex2mathml",
    "fastapi",
    "uvicorn",
    "starlette",
    "sqlalchemy",
    "torch",
    "onnx",
    "jax",
    "byhand.teach",
    "byhand.web",
    "byhand.train",
    "byhand.data",
    "byhand.plots",
    "rich",
    # how a notebook shows things: registered only inside IPython
    "IPython",
    "byhand.notebook",
    "byhand.display",
    "byhand.diagram",
)


def imported_by(*argv: str) -> set[str]:
    """The modules loaded after running `byhand ARGV` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from byhand.cli import main\n"
        f"status = main({list(argv)!r})\n"
        "print(json.dumps([status, sorted(sys.modules)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    status, modules = json.loads(out.strip().splitlines()[-1])
    assert status == 0
    return set(modules)


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


def test_forward_imports_none_of_the_heavy_modules():
    modules = imported_by("forward")
    assert "byhand.cli.engine" in modules  # the command did run
    assert [p for p in HEAVY if loaded(modules, p)] == []
    # the other commands' modules stay unloaded too
    assert not {"byhand.cli.teach", "byhand.cli.train", "byhand.cli.serve"} & modules


def test_help_lists_every_command_without_importing_them():
    modules = imported_by("--help")
    assert not loaded(modules, "rich")
    assert not {"byhand.cli.engine", "byhand.cli.teach", "byhand.cli.train"} & modules
    assert [p for p in HEAVY if loaded(modules, p)] == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_table_says_where_each_command_is_and_what_it_does(name):
    module, help_line = COMMANDS[name]
    command = app.get_command(None, name)
    assert command.callback.__module__ == f"byhand.cli.{module}"
    # the line `byhand --help` shows before the module is imported is the command's own
    assert help_line == " ".join(inspect.cleandoc(command.help).split("\n\n")[0].split())


def test_a_module_missing_from_the_table_still_registers_its_commands(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "greeting.py").write_text(
        "import click\n"
        "from byhand.cli.common import app\n\n\n"
        "@app.command(name='greet')\n"
        "def greet():\n"
        '    """Say hello."""\n'
        "    click.echo('hello')\n"
    )
    monkeypatch.setattr(byhand.cli, "__path__", [*byhand.cli.__path__, str(tmp_path)])
    try:
        assert main(["greet"]) == 0
        assert capsys.readouterr().out == "hello\n"
        assert main(["--help"]) == 0
        assert "greet" in capsys.readouterr().out
    finally:
        app.commands.pop("greet", None)
        sys.modules.pop("byhand.cli.greeting", None)


def test_train_into_a_pipe_imports_neither_rich_nor_scikit_learn():
    # its report is plain text (byhand.cli.tables); rich draws the progress bar on a terminal
    # only, and digits is read without scikit-learn; of SciPy only the BLAS wrappers and the
    # special functions' ufuncs are loaded (byhand.scipy_parts), not scipy.linalg or special
    modules = imported_by("train", "--data", "digits", "--epochs", "1")
    assert "byhand.cli.train" in modules  # the command did run
    assert not loaded(modules, "rich")
    assert not loaded(modules, "sklearn")
    assert {m for m in modules if m.startswith("scipy")} <= {
        "scipy.linalg._fblas",
        "scipy.special._special_ufuncs",
    }


def test_the_program_ends_at_once_after_train_with_its_output_and_files_complete(tmp_path):
    # byhand.cli.run skips the interpreter's teardown after a QUICK_EXIT command: the report,
    # the model file and the exit status must all be there all the same
    model = tmp_path / "digits.json"
    argv = ["train", "--data", "digits", "--epochs", "2", "--out", str(model)]
    code = "from byhand.cli import run; run()"
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 epochs in" in done.stdout and done.stdout.endswith(f"model saved to {model}\n")
    assert json.loads(model.read_text())["format"] == "byhand.network"
    # a refused command keeps its status and its one-line error
    bad = subprocess.run(
        [sys.executable, "-c", code, "train", "--data", "digits", "--epochs", "0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("byhand: error:")
