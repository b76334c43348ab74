"""What every `byhand` command shares: the command group, options, number parsing and output."""

from __future__ import annotations

import importlib
import json
import math
import os
import pkgutil
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import click

from byhand import files
from byhand.errors import ByhandError

if TYPE_CHECKING:
    from rich.console import Console

    from byhand.network import Network

#: the exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells use
INTERRUPTED = 130
#: the file types a plot can be written as
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


@cache
def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def __getattr__(name: str):
    # `console` is made on first use: `byhand --help` never imports rich
    if name == "console":
        return _console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LazyGroup(click.Group):
    """The `byhand` command group: a command's module is imported only when the command runs.

    `lazy` maps each command's name to (its module in byhand.cli, its one-line help for
    `byhand --help`). A module of byhand.cli that the table does not name is still found: it
    is imported when a command name is not found in the table, and for the help listing.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}

    def _import(self, module: str) -> None:
        importlib.import_module(f"byhand.cli.{module}")

    def _import_unlisted(self) -> None:
        """Import every module of byhand.cli the table does not name (each adds its commands)."""
        # the package is loaded before this module runs: read its search path, import nothing
        package = sys.modules[__package__]
        listed = {module for module, _ in self.lazy.values()} | {"common"}
        for found in pkgutil.iter_modules(package.__path__):
            if found.name not in listed and not found.name.startswith("_"):
                self._import(found.name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            self._import(self.lazy[name][0])
        if name not in self.commands:
            self._import_unlisted()
        return self.commands.get(name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._import_unlisted()
        return sorted(set(self.commands) | set(self.lazy))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The help listing, from the table for commands not imported yet."""
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                rows.append((name, click.utils.make_default_short_help(self.lazy[name][1], limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        import numpy as np

        # overflow shows in the numbers themselves (inf, or a one-line error), so NumPy's
        # RuntimeWarning, with its source line, would only add noise for a user
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return super().invoke(ctx)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    no_args_is_help=True,
)
@click.version_option(package_name="byhand", prog_name="byhand")
def app() -> None:
    """byhand: neural networks, built by hand.

    Every command works on the lecture's 3-2-2 network (all weights and biases 1, inputs
    1,0,1, target 1,0) unless you give --model FILE.
    """


def fail(message: str, status: int = 2) -> int:
    """Print one line saying what is wrong; return the exit status."""
    click.echo(f"byhand: error: {message}", err=True)
    return status


class LearningRate(click.FloatRange):
    """η for an option: click's FloatRange 0 < η < ∞, which refuses NaN as well."""

    name = "η"

    def __init__(self) -> None:
        super().__init__(min=0, max=math.inf, min_open=True, max_open=True)

    def convert(self, value, param, ctx) -> float:
        try:
            eta = super().convert(value, param, ctx)
        except click.BadParameter:
            eta = math.nan
        if math.isnan(eta):
            try:
                float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number", param, ctx)
            self.fail(f"the learning rate must be a positive number, not {value}", param, ctx)
        return eta


def parse_numbers(text: str, what: str) -> list[float] | list[list[float]]:
    """'1,0,1' → [1.0, 0.0, 1.0]; '1,0,1;0,1,0' → a batch of two samples. Finite numbers only."""
    samples = [s for s in str(text).split(";") if s.strip()]
    if not samples:
        raise ByhandError(f"--{what}: give numbers separated by commas, e.g. 1,0,1")
    rows = []
    for sample in samples:
        row = []
        for item in sample.split(","):
            item = item.strip()
            try:
                value = float(item)
            except ValueError:
                raise ByhandError(f"--{what}: {item!r} is not a number") from None
            if not math.isfinite(value):
                raise ByhandError(f"--{what}: {item} is not a finite number")
            row.append(value)
        rows.append(row)
    return rows[0] if len(rows) == 1 else rows


def load_model(path: str | None) -> Network:
    """The network in `path`, or the lecture's network when no file is given."""
    from byhand import lecture, modelfile

    return lecture.lecture_network() if path is None else modelfile.load(path)


def model_option(f: Callable) -> Callable:
    return click.option(
        "--model",
        "-m",
        "model",
        metavar="FILE",
        default=None,
        help="Model file (.json or .npz). Default: the lecture's network.",
    )(f)


def inputs_option(f: Callable) -> Callable:
    return click.option(
        "--inputs",
        "-x",
        "inputs",
        metavar="X1,X2,…",
        default=None,
        help="Input values, comma-separated (';' between samples). Default: the lecture's 1,0,1.",
    )(f)


def target_option(f: Callable) -> Callable:
    return click.option(
        "--target",
        "-y",
        "target",
        metavar="Y1,Y2,…",
        default=None,
        help="Target values, comma-separated. Default: the lecture's 1,0.",
    )(f)


def lr_option(help: str, default: float | None = None) -> Callable:
    """--lr η, a LearningRate; `default` None leaves the choice to the command."""
    return click.option(
        "--lr",
        "lr",
        type=LearningRate(),
        metavar="η",
        default=default,
        show_default=default is not None,
        help=help,
    )


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")(f)


def resolve_inputs(net: Network, text: str | None):
    """The inputs typed, or the lecture's when the network has three inputs and none were typed."""
    from byhand import lecture

    if text is not None:
        return parse_numbers(text, "inputs")
    if net.sizes[0] == len(lecture.INPUTS):
        return list(lecture.INPUTS)
    raise ByhandError(f"--inputs: this network takes {plural(net.sizes[0], 'input')}; give them")


def resolve_target(net: Network, text: str | None):
    """The target typed, or the lecture's when the network has two outputs and none was typed."""
    from byhand import lecture

    if text is not None:
        return parse_numbers(text, "target")
    if net.sizes[-1] == len(lecture.TARGET):
        return list(lecture.TARGET)
    raise ByhandError(
        f"--target: this network has {plural(net.sizes[-1], 'output')}; give a target for each"
    )


def check_writable(path: str, what: str, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse, before any work, a file name that cannot be written: a folder, a missing or
    read-only folder, or (given `suffixes`) an extension that is none of them."""
    target = Path(path)
    folder = target.parent
    if suffixes and target.suffix.lower() not in suffixes:
        raise ByhandError(f"cannot write {what} {path}: name it with one of {', '.join(suffixes)}")
    if target.is_dir():
        raise ByhandError(f"cannot write {what} {path}: it is a folder")
    if not folder.is_dir():
        raise ByhandError(f"cannot write {what} {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise ByhandError(f"cannot write {what} {path}: the folder {folder} is not writable")
    # a device, a FIFO or a socket is refused, never replaced by a plain file
    files.check_writable(path, what)


def plural(n: int, noun: str) -> str:
    """'1 output', '3 outputs'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def print_json(data) -> None:
    """JSON on stdout; numbers keep every digit. JSON has no infinity or NaN: those are an error."""
    try:
        text = json.dumps(data, indent=2, allow_nan=False)
    except ValueError:
        raise ByhandError(
            "the numbers overflowed to infinity or NaN, which JSON cannot hold; "
            "use smaller inputs, weights or learning rate"
        ) from None
    sys.stdout.write(text + "\n")


def number(value: float, digits: int | None = None) -> str:
    """A number for a table: TABLE_DECIMALS decimals kept, a real minus sign, 5.2 × 10⁻⁸ when
    tiny (`byhand.numbers.column`, as notebooks write it)."""
    from byhand import numbers

    return numbers.column(value, numbers.TABLE_DECIMALS if digits is None else digits)
