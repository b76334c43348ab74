"""POST /api/view: everything one refresh of the lecture page shows, in one answer.

The page used to ask four endpoints per refresh (diagram, formulas, forward, backprop), each
validating the whole model again and running its own passes. Here one request carries the
page's state and the answer is drawn from one forward pass x → z⁽ˡ⁾, a⁽ˡ⁾ and one backward pass
δ⁽ˡ⁾, ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾: the diagram (SVG), the names of every neuron and parameter (from
`byhand.notation`), the formulas as MathML, the tables' numbers, and the chain rule of the
selected parameter. With ``step`` it first takes one gradient step W ← W − η ∂L/∂W and
answers for the network after it. With ``point`` (x1, x2), a network of input features is given
that point's features (`byhand.features`, the one place they are defined) in place of
``inputs``, and the answer's ``inputs`` are those features: the diagram's input nodes show them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import numpy as np
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from byhand import features, modelfile, notation
from byhand.diagram import network_svg
from byhand.errors import ByhandError
from byhand.mathml import to_mathml
from byhand.network import Network
from byhand.trace import BackwardTrace, ForwardTrace
from byhand.web import formulas
from byhand.web.schemas import (
    LearningRate,
    Model,
    Samples,
    Strict,
    check_drawable,
    check_work,
    finite,
)

router = APIRouter(tags=["page"])


class ViewRequest(Strict):
    """The page's state: the network, one sample, what has been run, what is selected."""

    model: Model
    inputs: Samples
    target: Samples
    lr: LearningRate = 0.5
    forward: bool = Field(False, description="the forward pass has run: show z and activations")
    backward: bool = Field(False, description="backpropagation has run: show the gradients")
    selected: Annotated[str, Field(max_length=40)] | None = None
    explain: Annotated[str, Field(max_length=40)] | None = Field(
        None,
        description="the parameter whose chain rule to write (default: the selected one, or, "
        "with a neuron or nothing selected, the lecture's example: the last layer's first weight)",
    )
    step: bool = Field(False, description="take one gradient step first, then show the result")
    point: Annotated[list[float], Field(min_length=2, max_length=2)] | None = Field(
        None,
        description="a raw point [x1, x2] for a network of input features: its features "
        "(x1², sin x1, …) are the inputs, in place of `inputs`; the answer's `inputs` are them",
    )
    known: Annotated[str, Field(max_length=200)] | None = Field(
        None,
        description="the names_key of the names the page already holds: when it is this "
        "network's, the answer leaves out the names and (without a step) the model",
    )


def names(net: Network) -> dict:
    """The lecture's names: neurons per layer (x1 … o2) and every parameter (w31, b3) in the
    order of `notation.all_refs`, with its layer name (W2[1,1]) and place; `names_key` says
    which network they name (a page that holds them sends it back as `known`)."""
    return _names(tuple(net.sizes))


@lru_cache(maxsize=64)
def _names(sizes: tuple[int, ...]) -> dict:
    neurons = [[notation.input_symbol(j).text for j in range(sizes[0])]]
    neurons += [
        [notation.activation_symbol(l, i, sizes).text for i in range(sizes[l + 1])]
        for l in range(len(sizes) - 1)
    ]
    params = [
        {
            "name": notation.lecture_name(ref, sizes),
            "layer_name": ref.layer_name,
            "kind": ref.kind,
            "layer": ref.layer,
            "row": ref.row,
            "col": ref.col,
        }
        for ref in notation.all_refs(sizes)
    ]
    key = "-".join(map(str, sizes))
    return {"sizes": list(sizes), "names_key": key, "neurons": neurons, "params": params}


def _lines(lines: list[str]) -> dict:
    """Several lines of one formula, as LaTeX and one MathML block per line."""
    return {
        "tex": r",\quad ".join(lines),
        "lines": lines,
        "mathml": "".join(to_mathml(t) for t in lines),
    }


#: neurons whose formulas part 2 writes out, with the selected one; a tap on the diagram shows
#: any other (a wide network's 40 formulas would cost more than the rest of a refresh)
SHOWN_NEURONS = 8


def _neurons(net: Network, fwd: ForwardTrace | None, selected: str | None) -> dict[str, dict]:
    """The first SHOWN_NEURONS neurons' formulas (and the selected neuron's), by symbol."""
    places = [(l, i) for l in range(len(net.layers)) for i in range(net.sizes[l + 1])]
    symbols = {place: notation.activation_symbol(*place, net.sizes).text for place in places}
    wanted = places[:SHOWN_NEURONS]
    wanted += [p for p in places[SHOWN_NEURONS:] if symbols[p] == selected]
    out = {}
    for layer, i in wanted:
        out[symbols[(layer, i)]] = formulas.neuron_math(net, layer, i, fwd)
    return out


def _maths(net: Network, fwd: ForwardTrace, back: BackwardTrace, y, req: ViewRequest) -> dict:
    """The formulas of parts 2–5; a neuron's numbers only once the forward pass has run (the
    lecture asks the student to find them first)."""
    shown = fwd if req.forward else None
    param = None
    if req.backward:
        ref = None
        for which in (req.explain, req.selected):
            try:
                ref = notation.parse(which, net.sizes) if which else None
            except ByhandError:
                ref = None  # a neuron is selected: no chain rule of its own
            if ref is not None:
                break
        # the lecture's example, w31 in its network: the last layer's first weight
        ref = ref or notation.ParamRef("W", len(net.layers) - 1, 0, 0)
        x1 = fwd.activations[0][0].tolist()
        param = formulas.parameter_formulas(
            net, notation.lecture_name(ref, net.sizes), x1, y, req.lr
        )
    loss_tex = formulas.loss_tex(net, fwd.activations[-1][0], y, fwd.zs[-1][0])
    loss_tex += rf" = {formulas.r(back.loss)}"
    return {
        "neurons": _neurons(net, shown, req.selected),
        "neurons_total": sum(net.sizes[1:]),
        "matrix": [_lines(lines) for lines in formulas.matrix_lines(net, shown)],
        "loss": formulas.math(loss_tex),
        "param": param,
    }


def _flat(net: Network) -> np.ndarray:
    """Every parameter in the order of `notation.all_refs`: each neuron's weights, then its bias."""
    return np.concatenate([np.hstack([la.W, la.b[:, None]]).ravel() for la in net.layers])


def _changed(before: Network, after: Network, params: list[dict]) -> list[str]:
    """The lecture's names of the parameters a step changed."""
    moved = np.flatnonzero(_flat(before) != _flat(after))
    return [params[k]["name"] for k in moved]


def sample_inputs(net: Network, req: ViewRequest):
    """The inputs the network is given: `inputs`, or the features of `point` (x1, x2)."""
    if req.point is None:
        return req.inputs
    names = features.of(net)
    if names is None:
        raise ByhandError(
            "point: this network takes its inputs as they are (no input features); give inputs"
        )
    finite([np.asarray(req.point)], "point")
    return features.expand(req.point, names).tolist()


def build_view(net: Network, req: ViewRequest) -> dict:
    """The whole answer for one network and one sample, from one forward/backward pair."""
    check_drawable(net)
    x, batched = net.check_inputs(sample_inputs(net, req))
    if batched:
        raise ByhandError("inputs: give one sample (a list of numbers), not a batch")
    try:
        y = net.check_targets(req.target, 1)[0]
    except ByhandError as err:
        raise ByhandError(f"target: {err}") from None
    check_work(net, 1)
    answer: dict = {}
    fwd = net.forward(x[0])
    back = net.backward(fwd, y)
    finite([*fwd.zs, *fwd.activations], "the forward pass")
    finite([back.losses, *back.grad_W, *back.grad_b], "backpropagation")
    if req.step:
        updated, loss_after = net.after_step(fwd, back, y, req.lr)
        finite([p for layer in updated.layers for p in (layer.W, layer.b)], "the gradient step")
        answer["step"] = {
            "loss_before": back.loss,
            "loss_after": loss_after,
            "changed": _changed(net, updated, names(net)["params"]),
        }
        net = updated
        fwd = net.forward(x[0])
        back = net.backward(fwd, y)
    named = names(net)
    held = req.known == named["names_key"]
    if held:
        # the page holds these names and, without a step, this model: a 64-30-10 network's
        # 1,960 parameter names and its model file are 60% of a full answer
        named = {"sizes": named["sizes"], "names_key": named["names_key"]}
    if req.step or not held:
        answer["model"] = modelfile.to_dict(net)
    answer.update(
        {
            **named,
            "svg": network_svg(
                net,
                fwd if req.forward else None,
                back if req.backward else None,
                selected=req.selected,
            ),
            "formulas": _maths(net, fwd, back, y, req),
            "forward": fwd.to_dict() if req.forward else None,
            "backward": back.to_dict() if req.backward else None,
        }
    )
    if req.point is not None:
        answer["inputs"] = x[0].tolist()
    return answer


@router.post("/api/view")
def view(req: ViewRequest) -> JSONResponse:
    """Everything a refresh of the page shows: diagram, names, formulas, forward and backward
    results and the selected parameter's chain rule, from one forward/backward pair."""
    with np.errstate(all="ignore"):
        return JSONResponse(build_view(req.model, req))
