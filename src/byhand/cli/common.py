"""What every `byhand` command shares: the command group, options, number parsing and output."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from byhand import files, lecture, modelfile
from byhand.errors import ByhandError
from byhand.network import Network

console = Console(highlight=False)
#: the exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells use
INTERRUPTED = 130
#: the file types a plot can be written as
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


@click.group(
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


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")(f)


def resolve_inputs(net: Network, text: str | None):
    """The inputs typed, or the lecture's when the network has three inputs and none were typed."""
    if text is not None:
        return parse_numbers(text, "inputs")
    if net.sizes[0] == len(lecture.INPUTS):
        return list(lecture.INPUTS)
    raise ByhandError(f"--inputs: this network takes {plural(net.sizes[0], 'input')}; give them")


def resolve_target(net: Network, text: str | None):
    """The target typed, or the lecture's when the network has two outputs and none was typed."""
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


def number(value: float, digits: int = 7) -> str:
    """A number for a table: fixed decimals, a real minus sign."""
    return f"{float(value):.{digits}f}".replace("-", "−")
