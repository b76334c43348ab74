"""`byhand export`: write a model as ONNX, as a NumPy archive, or as the JSON model file."""

from __future__ import annotations

import os

import click

from byhand import features, lecture, modelfile
from byhand.cli.common import (
    app,
    inputs_option,
    load_model,
    lr_option,
    resolve_inputs,
    resolve_target,
    target_option,
)
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
@click.option(
    "--numpy-script",
    "numpy_path",
    metavar="OUT.py",
    help="Write a NumPy script of the forward pass, backprop and one step, printing every number.",
)
@click.option(
    "--torch-script",
    "torch_path",
    metavar="OUT.py",
    help="Write the same as a PyTorch script (nn.Sequential and autograd).",
)
@inputs_option
@target_option
@lr_option("Learning rate of the scripts' gradient step.", default=lecture.LEARNING_RATE)
def export_command(
    model, onnx_path, npz_path, json_path, dtype, numpy_path, torch_path, inputs, target, lr
):
    """Write a model as ONNX, as a NumPy archive, as JSON, or as a script that shows the code.

    MODEL is a .json or .npz model file (default: the lecture's network). ONNX runs in any ONNX
    runtime: each layer is a Gemm node then its activation, the input is x and the output o.
    --npz and --json convert between byhand's own two kinds of model file. --numpy-script and
    --torch-script write standalone Python that computes, for --inputs and --target, the
    forward pass, the loss, backpropagation and one gradient step with --lr, and prints the
    numbers `byhand backprop` shows.
    """
    if not (onnx_path or npz_path or json_path or numpy_path or torch_path):
        raise click.UsageError(
            "say where to write: --onnx OUT.onnx, --npz OUT.npz, --json OUT.json, "
            "--numpy-script OUT.py or --torch-script OUT.py"
        )
    targets = [
        _target(p, s, o)
        for p, s, o in (
            (onnx_path, ".onnx", "onnx"),
            (npz_path, ".npz", "npz"),
            (json_path, ".json", "json"),
            (numpy_path, ".py", "numpy-script"),
            (torch_path, ".py", "torch-script"),
        )
        if p
    ]
    net = load_model(model)
    scripts = {}
    if numpy_path or torch_path:
        from byhand.export.script import numpy_script, torch_script

        if inputs is None and features.of(net) is not None:
            raise ByhandError(
                "--inputs: this model takes points x1,x2 (its features are "
                f"{', '.join(features.of(net))}); give them"
            )
        x, y = resolve_inputs(net, inputs), resolve_target(net, target)
        for path, write in ((numpy_path, numpy_script), (torch_path, torch_script)):
            if path:
                scripts[path] = write(net, x, y, lr)
    if onnx_path:
        from byhand.export.onnx import save_onnx

        save_onnx(net, onnx_path, dtype)
    for path in (npz_path, json_path):
        if path:
            modelfile.save(net, path)
    for path, text in scripts.items():
        try:
            modelfile.atomic_write(path, text.encode())
        except OSError as err:
            raise ByhandError(f"cannot write {path}: {err.strerror or err}") from None
    for path in targets:
        click.echo(f"wrote {path}: {net!r}")
