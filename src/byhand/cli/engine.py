"""`byhand forward`, `byhand backprop`, `byhand explain`: the lecture's passes, every number shown."""

from __future__ import annotations

import click

from byhand import features, modelfile, notation
from byhand.cli.common import (
    app,
    inputs_option,
    json_option,
    load_model,
    model_option,
    number,
    print_json,
    resolve_inputs,
    resolve_target,
    target_option,
)
from byhand.cli.tables import table
from byhand.explanation import explain


def _neuron_label(net, layer: int, i: int) -> str:
    sym = notation.activation_symbol(layer, i, net.sizes)
    if layer == len(net.layers) - 1 and net.output_names:
        return f"{sym.text} ({net.output_names[i]})"
    return sym.text


def _sample_tables(net, fwd, sample: int) -> list[str]:
    """The inputs and every layer's z and activation for one sample, as plain-text tables."""
    x = fwd.activations[0][sample]
    rows = []
    for j, v in enumerate(x):
        name = notation.input_symbol(j).text
        if net.input_names:
            name += f" ({net.input_names[j]})"
        rows.append((name, number(v)))
    tables = [table("inputs", ("input", "value"), rows)]
    for l, layer in enumerate(net.layers):
        last = l == len(net.layers) - 1
        title = (
            "output layer"
            if last
            else f"hidden layer {l + 1}"
            if len(net.layers) > 2
            else "hidden layer"
        )
        rows = [
            (
                _neuron_label(net, l, i),
                number(fwd.zs[l][sample, i]),
                number(fwd.activations[l + 1][sample, i]),
            )
            for i in range(layer.n_out)
        ]
        tables.append(
            table(
                f"{title} ({layer.activation.name})",
                ("neuron", notation.WEIGHTED_SUM.text, "activation"),
                rows,
            )
        )
    return tables


@app.command()
@model_option
@inputs_option
@json_option
def forward(model, inputs, as_json):
    """Run a forward pass and show z and the activation of every neuron."""
    net = load_model(model)
    fwd = net.forward(features.raw_inputs(net, resolve_inputs(net, inputs)))
    if as_json:
        print_json(fwd.to_dict())
        return
    # plain text, without rich: a forward pass is the command a student starts most often
    for s in range(fwd.activations[0].shape[0]):
        if fwd.batched:
            click.echo(f"sample {s + 1}")
        for text in _sample_tables(net, fwd, s):
            click.echo(text, nl=False)


@app.command()
@model_option
@inputs_option
@target_option
@click.option(
    "--lr",
    "lr",
    type=float,
    default=0.5,
    show_default=True,
    metavar="η",
    help="Learning rate of the gradient step.",
)
@click.option("--out", "out", metavar="FILE", default=None, help="Save the updated model here.")
@json_option
def backprop(model, inputs, target, lr, out, as_json):
    """Backpropagate: the loss, every δ and gradient, and the loss after one gradient step."""
    net = load_model(model)
    fwd = net.forward(features.raw_inputs(net, resolve_inputs(net, inputs)))
    y = resolve_target(net, target)
    back = net.backward(fwd, y)
    updated, loss_after = net.after_step(fwd, back, y, lr)
    if out:
        modelfile.save(features.attach(updated, features.of(net)), out)
    if as_json:
        print_json(
            {
                **back.to_dict(),
                "updated_model": modelfile.to_dict(updated),
                "loss_after": loss_after,
            }
        )
        return
    from rich.table import Table

    from byhand.cli.common import console  # made on first use: rich is imported here

    console.print(f"loss L = {number(back.loss)}  ({net.loss.name})")
    for l in reversed(range(len(net.layers))):
        t = Table(title=f"layer {l + 1} ({net.layers[l].activation.name})", title_justify="left")
        t.add_column("parameter")
        t.add_column("value", justify="right")
        t.add_column("∂L/∂", justify="right")
        t.add_column(f"after step (η = {lr:g})", justify="right")
        for i in range(net.layers[l].n_out):
            for j in range(net.layers[l].n_in):
                ref = notation.ParamRef("W", l, i, j)
                t.add_row(
                    f"{notation.lecture_name(ref, net.sizes)}  {ref.layer_name}",
                    number(net.layers[l].W[i, j]),
                    number(back.grad_W[l][i, j]),
                    number(updated.layers[l].W[i, j]),
                )
            ref = notation.ParamRef("b", l, i)
            t.add_row(
                f"{notation.lecture_name(ref, net.sizes)}  {ref.layer_name}",
                number(net.layers[l].b[i]),
                number(back.grad_b[l][i]),
                number(updated.layers[l].b[i]),
                end_section=True,
            )
        console.print(t)
    deltas = (
        ", ".join(
            f"{notation.delta_symbol(l, i, net.sizes).text} = {number(back.deltas[l][0, i])}"
            for l in range(len(net.layers))
            for i in range(net.layers[l].n_out)
        )
        if not back.batched
        else ""
    )
    if deltas:
        console.print(deltas)
    console.print(
        f"loss after one step: {number(loss_after)}  (change {number(loss_after - back.loss)})"
    )
    if out:
        console.print(f"updated model saved to {out}")


@app.command(name="explain")
@click.argument("name")
@model_option
@inputs_option
@target_option
@json_option
def explain_command(name, model, inputs, target, as_json):
    """Show the chain rule for ∂L/∂NAME with every number put in.

    NAME is a parameter in the lecture's names (w31, w11, b3) or in layer notation
    (W2[1,1], b1[2]).
    """
    net = load_model(model)
    x = resolve_inputs(net, inputs)
    if x and isinstance(x[0], list):
        raise click.UsageError("explain works on one sample: give one list of --inputs")
    result = explain(net, name, features.raw_inputs(net, x), resolve_target(net, target))
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(str(result))
