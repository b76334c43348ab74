"""The `byhand` command. Each module in this package adds its own commands to `app`.

A module is imported only when one of its commands runs, so a command starts as fast as what
it uses allows: COMMANDS says where each command lives. A new module registers its commands
with `@app.command()` (or `@app.group()`) from byhand.cli.common, and gets a line here per
command: its name, the module, and the help line `byhand --help` shows until the module is
imported (a test checks that line against the command's own). A module not listed here still
works: it is imported whenever a command name is not found, and for `byhand --help`.

Every error a user can cause ends as one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys

import click

from byhand.cli.common import INTERRUPTED, app, fail
from byhand.errors import ByhandError

#: command name → (module in byhand.cli, the help line `byhand --help` shows)
COMMANDS: dict[str, tuple[str, str]] = {
    "backprop": (
        "engine",
        "Backpropagate: the loss, every δ and gradient, and the loss after one gradient step.",
    ),
    "class": (
        "classes",
        "Run a class: join codes, a variant per student, a live dashboard, a gradebook.",
    ),
    "check": (
        "teach",
        "Grade hand-worked ANSWERS (JSON or YAML: h1: 0.9526, dL/dw31: …) against SHEET.",
    ),
    "evaluate": (
        "train",
        "Measure a trained model's loss and accuracy on a data set, with its confusion matrix.",
    ),
    "explain": ("engine", "Show the chain rule for ∂L/∂NAME with every number put in."),
    "export": (
        "export",
        "Write a model as ONNX, as a NumPy archive, as JSON, or as a script that shows the code.",
    ),
    "forward": ("engine", "Run a forward pass and show z and the activation of every neuron."),
    "new-lecture": (
        "lecture",
        "Write a starter lecture NUMBER with TITLE as NN-title.md, to edit and serve.",
    ),
    "predict": ("train", "Give a trained model's outputs and predicted class for new inputs."),
    "serve": (
        "serve",
        "Serve the interactive lecture and its JSON API (/api, documented at /docs).",
    ),
    "solve": (
        "teach",
        "Write the worked solution of one training step: forward, loss, every δ, gradient, update.",
    ),
    "train": ("train", "Train a network on a data set, epoch by epoch, and show how well it does."),
    "worksheet": (
        "teach",
        "Draw an exercise with friendly numbers and write it with its answer key.",
    ),
}
app.lazy.update(COMMANDS)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    try:
        # without standalone mode click returns ctx.exit()'s status instead of raising Exit
        status = app.main(args=argv, prog_name="byhand", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as err:
        click.echo(err.ctx.get_help() if err.ctx else str(err))
        return 0
    except click.UsageError as err:
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
        return fail(err.format_message() + hint)
    except click.exceptions.Exit as err:
        return err.exit_code
    except click.Abort:
        return fail("stopped by Ctrl-C", INTERRUPTED)
    except click.ClickException as err:
        return fail(err.format_message())
    except ByhandError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        return fail("stopped by Ctrl-C", INTERRUPTED)
    except BrokenPipeError:
        return 0
    return status if isinstance(status, int) else 0


#: commands after which the `byhand` program ends at once (os._exit) when its output is
#: flushed, without the interpreter's teardown: about 20 ms once NumPy and SciPy's BLAS are
#: loaded, a tenth of `byhand train --data digits`. Safe for these: every file they write goes
#: through files.atomic_write (written, fsynced and closed before the command returns) or
#: to stdout and stderr, flushed here, and they start no thread, process or database
#: connection that the teardown would close. `serve` and `class` are not among them.
QUICK_EXIT = frozenset({"forward", "backprop", "explain", "train", "predict", "evaluate"})


def run() -> None:
    """The `byhand` program (pyproject's console script): main() on sys.argv, then exit with
    its status; after a QUICK_EXIT command, at once. Code that calls main() itself (tests, a
    notebook) keeps its interpreter."""
    status = main()
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command in QUICK_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: let the ordinary exit deal with it
            sys.exit(status)
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
