"""The lecture page (GET /) and the endpoints that draw for it: diagram, formulas, architecture.

The page is rendered on the server from the lecture's Markdown, with the diagram and every
formula already in it, so it reads well before any script runs; the script then asks these
endpoints (and the JSON API) to redraw as the student changes the network. Like the rest of
the server they are stateless: each request carries the model it is about.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from byhand import features, lecture, modelfile, numbers
from byhand.activations import ACTIVATIONS
from byhand.data import SYNTHETIC, SYNTHETIC_DEFAULTS
from byhand.diagram import activation_svg, network_svg
from byhand.errors import ByhandError, unknown
from byhand.limits import LIMITS
from byhand.losses import LOSSES
from byhand.mathml import to_mathml
from byhand.network import INITS, Network
from byhand.optimizers import OPTIMIZERS
from byhand.web import api, content, formulas, view
from byhand.web.schemas import Model, check_drawable, finite

router = APIRouter()

WEB = resources.files("byhand") / "web"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(WEB / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # the precision answers are asked for, as the checker grades them (byhand.numbers)
    env.globals["precision"] = numbers.PRECISION
    return env


#: the lecture whose network the interactive parts start from and whose exercises Practice draws
NETWORK_LECTURE = 3

#: every interactive part a lecture's ``::: name`` marker may place
WIDGETS = (
    "sigmoid-plot",
    "neuron-formulas",
    "try-it",
    "loss",
    "backprop",
    "step",
    "train",
    "matrices",
    "architecture",
    "datasets",
)


def _network(net: Network) -> Network:
    """The request's network, if it is small enough to draw neuron by neuron."""
    return check_drawable(net)


def _sample(net: Network, inputs: list[float] | None) -> list[float]:
    """One sample of inputs, checked against the network; zeros when none is given."""
    if inputs is None:
        return [0.0] * net.sizes[0]
    x, batched = net.check_inputs(inputs)
    if batched:
        raise ByhandError("inputs: give one sample (a list of numbers), not a batch")
    return x[0].tolist()


class DiagramRequest(BaseModel):
    """Draw `model`; with inputs, show its values; with a target too, its gradients."""

    model_config = ConfigDict(extra="forbid")
    model: Model
    inputs: list[float] | None = None
    target: list[float] | None = None
    forward: bool = Field(True, description="show z and activations (needs inputs)")
    backward: bool = Field(False, description="show gradients (needs inputs and target)")
    selected: str | None = Field(None, max_length=40)


class FormulasRequest(BaseModel):
    """The lecture's formulas for `model` with the numbers of one sample put in."""

    model_config = ConfigDict(extra="forbid")
    model: Model
    inputs: list[float]
    target: list[float] | None = None
    param: str | None = Field(None, max_length=40)
    lr: float = Field(lecture.LEARNING_RATE, gt=0, le=1e6)


class ArchitectureRequest(BaseModel):
    """A fresh network of the given shape, initialised by the engine."""

    model_config = ConfigDict(extra="forbid")
    sizes: list[int] = Field(..., min_length=2)
    activation: str = "sigmoid"
    output_activation: str | None = None
    loss: str = "half_sse"
    init: str = "constant"
    value: float = Field(1.0, ge=-1e6, le=1e6)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    input_names: list[str] | None = None
    output_names: list[str] | None = None


@router.post("/api/diagram")
def diagram(req: DiagramRequest) -> dict:
    """The network as SVG: weights on edges, and values or gradients when asked and possible."""
    net = _network(req.model)
    fwd = back = None
    if req.inputs is not None and (req.forward or req.backward):
        with np.errstate(all="ignore"):
            fwd = net.forward(_sample(net, req.inputs))
            finite(fwd.zs + fwd.activations, "the forward pass")
            if req.backward and req.target is not None:
                back = net.backward(fwd, req.target)
                finite([*back.deltas, *back.grad_W], "backpropagation")
        if not req.forward:
            fwd = None
    return {"svg": network_svg(net, fwd, back, selected=req.selected)}


@router.post("/api/formulas")
def lecture_formulas(req: FormulasRequest) -> dict:
    """Each neuron's formula, the loss, the matrix form and one parameter's chain rule, as MathML."""
    net = _network(req.model)
    x = _sample(net, req.inputs)
    target = None
    if req.target is not None:
        target = net.check_targets(req.target, 1)[0].tolist()
    with np.errstate(all="ignore"):
        fwd = net.forward(x)
        finite(fwd.zs + fwd.activations, "the forward pass")
        if target is not None:
            back = net.backward(fwd, target)
            finite([back.losses, *back.deltas, *back.grad_W], "backpropagation")
        return formulas.all_formulas(net, x, target, param=req.param, lr=req.lr)


@router.post("/api/architecture")
def architecture(req: ArchitectureRequest) -> dict:
    """A model file for a new network: sizes from inputs to outputs, activations, loss, init."""
    if len(req.sizes) - 1 > LIMITS.max_layers:
        raise ByhandError(f"sizes: at most {LIMITS.max_layers} layers, got {len(req.sizes) - 1}")
    if any(not 1 <= n <= LIMITS.max_neurons for n in req.sizes):
        raise ByhandError(f"sizes: every layer needs 1 to {LIMITS.max_neurons} neurons")
    for field, value in (
        ("activation", req.activation),
        ("output_activation", req.output_activation),
    ):
        if value is not None and value not in ACTIVATIONS:
            raise unknown("", value, ACTIVATIONS, field)
    count = sum((a + 1) * b for a, b in zip(req.sizes[:-1], req.sizes[1:], strict=False))
    if count > LIMITS.max_parameters:
        raise ByhandError(
            f"sizes: {count} parameters is more than the page builds ({LIMITS.max_parameters} at most)"
        )
    if req.loss not in LOSSES:
        raise unknown("", req.loss, LOSSES, "loss")
    if req.init not in INITS:
        raise unknown("", req.init, INITS, "init")
    net = Network.create(
        req.sizes,
        activation=req.activation,
        output_activation=req.output_activation,
        loss=req.loss,
        init=req.init,
        value=req.value,
        seed=req.seed,
        input_names=req.input_names,
        output_names=req.output_names,
    )
    return {"model": modelfile.to_dict(net)}


def defaults() -> dict:
    """The lecture's starting point, as the page's script receives it."""
    return {
        "model": modelfile.to_dict(lecture.lecture_network()),
        "inputs": list(lecture.INPUTS),
        "target": list(lecture.TARGET),
        "lr": lecture.LEARNING_RATE,
        "activations": list(ACTIVATIONS),
        "losses": list(LOSSES),
        "inits": list(INITS),
    }


def _json_for_html(data: Any) -> str:
    """JSON that is safe inside a <script type="application/json"> element."""
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _start(request: Request | None) -> dict:
    """The page's starting point: the lecture's network and numbers, or the network
    `byhand serve --model FILE` was given (as /api/lecture hands it out)."""
    if request is None:
        return defaults()
    served = json.loads(api.lecture_defaults(request).body)
    return {**defaults(), **served}


def series(directory: str | None = None) -> dict[int, content.LectureFile]:
    """The lecture series the site serves (shipped, plus `byhand serve --lectures DIR`), checked
    whole at start-up: a malformed lecture is a LectureError naming its file and line."""
    return content.load_series(directory, WIDGETS)


def _series_of(request: Request | None) -> dict[int, content.LectureFile]:
    found = getattr(request.app.state, "lectures", None) if request is not None else None
    return found if found is not None else _shipped()


@lru_cache(maxsize=1)
def _shipped() -> dict[int, content.LectureFile]:
    return series(None)


def page_limits(request: Request | None) -> dict:
    """The server's limits the page's script keeps to: the layers a network may have, and the
    requests a second one client may make when this server limits them (None: it does not),
    so that the live views leave room for clicks."""
    settings = getattr(request.app.state, "settings", None) if request is not None else None
    per_client = settings is not None and settings.per_client
    return {
        "max_layers": LIMITS.max_layers,
        "client_rate": settings.limits.client_rate if per_client else None,
    }


def synthetic_defaults() -> dict[str, dict]:
    """Each synthetic set's samples and noise when none are given (data.SYNTHETIC_DEFAULTS),
    as the data-set panel starts with them and sets them when a set is chosen."""
    return {name: {"samples": n, "noise": noise} for name, (n, noise) in SYNTHETIC_DEFAULTS.items()}


def render_page(request: Request | None = None, number: int = NETWORK_LECTURE) -> str:
    """One lecture's page as HTML, drawn for its starting point: the same answer /api/view
    gives, so the first drawing needs no request."""
    env = _env()
    lectures = _series_of(request)
    if number not in lectures:
        raise HTTPException(404, f"no lecture number {number}; see the series at /")
    lec = lectures[number]
    start = _start(request)
    net = modelfile.from_dict(start["model"])
    x, y = start["inputs"], start["target"]
    first = view.build_view(
        net, view.ViewRequest(model=start["model"], inputs=x, target=y, lr=start["lr"])
    )
    context = {
        "net": net,
        "start": start,
        "maths": first["formulas"],
        "inputs": x,
        "target": y,
        "lr": start["lr"],
        "activations": list(ACTIVATIONS),
        "losses": list(LOSSES),
        "inits": list(INITS),
        "optimizers": list(OPTIMIZERS),
        "synthetic_sets": list(SYNTHETIC),
        "synthetic_defaults": synthetic_defaults(),
        "sigmoid_svg": activation_svg("sigmoid"),
        "input_features": list(features.FEATURES.values()),
    }
    used = set(lec.widgets)
    widgets = {
        name: env.get_template(f"widgets/{name}.html").render(context)
        for name in WIDGETS
        if name in used
    }
    page = content.render_lecture(lec.body, widgets)
    interactive = bool(used - {"sigmoid-plot"})
    practice = number == NETWORK_LECTURE and (WEB / "templates" / "practice.html").is_file()
    return env.get_template("page.html").render(
        lecture=page,
        meta=lec,
        interactive=interactive,
        hero_sigma=to_mathml(ACTIVATIONS["sigmoid"].definition.tex),
        diagram_svg=first["svg"],
        start_json=_json_for_html(
            {
                **start,
                "view": first,
                "limits": page_limits(request),
                "synthetic_defaults": context["synthetic_defaults"],
            }
        ),
        practice_js=practice and (WEB / "static" / "practice.js").is_file(),
        modules=_modules(),
        practice_html=practice,
        **context,
    )


#: the modules a link's first request needs (js/opening.js and its imports): named first, since
#: the browser fetches a few files at a time from one server
FIRST_MODULES = ("opening.js", "api.js", "state.js")


@lru_cache(maxsize=1)
def _modules() -> list[str]:
    """The page script's modules, named in the page so the browser fetches them all at once
    instead of one import level after another; those of a link's first request first."""
    names = sorted(f.name for f in (WEB / "static" / "js").iterdir() if f.name.endswith(".js"))
    return sorted(names, key=lambda name: name not in FIRST_MODULES)


def render_index(request: Request | None = None) -> str:
    """The Lecture Series: one card per lecture with its number, title and summary."""
    return _env().get_template("series.html").render(lectures=list(_series_of(request).values()))


@router.api_route(
    "/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False
)
def index(request: Request) -> HTMLResponse:
    """The Lecture Series."""
    return HTMLResponse(render_index(request))


@router.api_route(
    "/lectures/{number}",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    include_in_schema=False,
)
def page(request: Request, number: Annotated[int, FastPath(ge=1, le=10_000)]) -> HTMLResponse:
    """One interactive lecture."""
    return HTMLResponse(render_page(request, number))
