"""`byhand export`: write a model as ONNX, as a NumPy archive, or as the JSON model file."""

from __future__ import annotations

import os

import click

from byhand import modelfile
from byhand.cli.common import app, load_model
from byhand.errors import ByhandError


def _target(path: str, suffix: str, option: str) -> str:
    if not path.lower().endswith(suffix):
        raise ByhandError(f"--{option}: the file name must end in {suffix}, got {path!r}")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise ByhandError(f"--{option}: no such directory {parent!r}")
    return path


@app.command(name="export")
@click.argument("model", metavar="[MODEL]", required=False)
@click.option("--onnx", "onnx_path", metavar="OUT.onnx", help="Write an ONNX model here.")
@click.option("--npz", "npz_path", metavar="OUT.npz", help="Write a NumPy .npz archive here.")
@click.option("--json", "json_path", metavar="OUT.json", help="Write a JSON model file here.")
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float64"]),
    default="float32",
    show_default=True,
    help="Number type of the ONNX model's weights, inputs and outputs.",
)
def export_command(model, onnx_path, npz_path, json_path, dtype):
    """Write a model as ONNX, as a NumPy archive or as JSON.

    MODEL is a .json or .npz model file (default: the lecture's network). ONNX runs in any ONNX
    runtime: each layer is a Gemm node then its activation, the input is x and the output o.
    --npz and --json convert between byhand's own two kinds of model file.
    """
    if not (onnx_path or npz_path or json_path):
        raise click.UsageError(
            "say where to write: --onnx OUT.onnx, --npz OUT.npz or --json OUT.json"
        )
    targets = [
        _target(p, s, o)
        for p, s, o in (
            (onnx_path, ".onnx", "onnx"),
            (npz_path, ".npz", "npz"),
            (json_path, ".json", "json"),
        )
        if p
    ]
    net = load_model(model)
    if onnx_path:
        from byhand.export.onnx import save_onnx

        save_onnx(net, onnx_path, dtype)
    for path in (npz_path, json_path):
        if path:
            modelfile.save(net, path)
    for path in targets:
        click.echo(f"wrote {path}: {net!r}")
