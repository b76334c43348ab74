"""Beyond the playground: the page's "show the code" script, neuron maps and short lesson states.

    POST /api/playground/script   {"model", "inputs", "target", "lr", "kind": "numpy"|"torch"}
                                  → {"filename", "script"}: what `byhand export --numpy-script`
                                  (or --torch-script) writes for the same network and numbers
    POST /api/playground/maps     {"model", "x_range", "y_range", "resolution", "boundary"}
                                  → every neuron's activation over the input plane (byhand.maps),
                                  and with "boundary": n the /api/grid answer for n × n points
                                  (a live update of the plane is one request)
    POST /api/playground/state/encode  {"state": {…}, "precision"} → {"code", "chars",
                                  "fits_link", "precision"}: a short code (byhand.shortstate);
                                  precision "link" picks the most exact one that fits a link
    POST /api/playground/state/decode  {"code": "…"} → {"state": {…}}

The numbers come from the engine; this module checks requests and shapes the answers, as
`byhand.web.api` does, within the server's limits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from byhand import features, shortstate
from byhand.export.script import numpy_script, torch_script
from byhand.limits import LIMITS
from byhand.maps import neuron_maps
from byhand.web import heavy
from byhand.web.api import ERRORS, _check, answer, grid_of
from byhand.web.schemas import BackpropRequest, GridRequest, check_work, sample_count

router = APIRouter(prefix="/api/playground", responses=ERRORS, tags=["playground"])

SCRIPTS = {"numpy": numpy_script, "torch": torch_script}


class ScriptRequest(BackpropRequest):
    """A network, its inputs, target and η, and which script to write."""

    kind: Literal["numpy", "torch"] = "numpy"


class ScriptAnswer(BaseModel):
    filename: str
    script: str


def _script(req: ScriptRequest) -> JSONResponse:
    net = req.model
    _check(net, req.inputs, req.target)
    check_work(net, sample_count(req.inputs))
    text = SCRIPTS[req.kind](net, req.inputs, req.target, req.lr)
    shape = "-".join(map(str, net.sizes))
    return answer({"filename": f"byhand-{shape}-{req.kind}.py", "script": text})


@router.post("/script", response_model=ScriptAnswer)
async def script(req: ScriptRequest) -> JSONResponse:
    """A standalone NumPy (or PyTorch) script of the forward pass, the loss, backpropagation and
    one gradient step for the request's network, inputs, target and η, printing every number."""
    return await run_in_threadpool(_script, req)


# --- neuron maps ----------------------------------------------------------------------------------

FeatureName = Annotated[str, Field(max_length=20)]
FeatureNames = Annotated[list[FeatureName], Field(max_length=len(features.FEATURES))]


class MapsRequest(GridRequest):
    """A network of 2 inputs, or of input features made from (x1, x2), and the grid to map."""

    #: the input features the network takes (byhand.features), none for x1, x2 themselves
    features: FeatureNames | None = None
    #: also the decision boundary on this many points a side (what /api/grid answers)
    boundary: Annotated[int, Field(ge=2, le=LIMITS.max_resolution)] | None = None


class NeuronMap(BaseModel):
    #: the page's name of the neuron: x1, h1, h1[2], o1 (byhand.notation)
    name: str
    low: float
    high: float
    levels: str


class LayerMaps(BaseModel):
    name: str
    neurons: list[NeuronMap]


class MapsAnswer(BaseModel):
    x_range: list[float]
    y_range: list[float]
    resolution: int
    levels: int
    layers: list[LayerMaps]
    #: /api/grid's answer on the same plane, when the request asks for the boundary
    boundary: dict[str, Any] | None = None


def _cells(req: MapsRequest) -> int:
    """The points the answer computes: the maps' grid, and the boundary's when asked for."""
    return req.resolution**2 + (req.boundary or 0) ** 2


def _maps(req: MapsRequest) -> JSONResponse:
    net = req.model
    if req.features is not None:
        features.attach(net, req.features)
    check_work(net, _cells(req))
    out = neuron_maps(net, req.x_range, req.y_range, req.resolution).to_dict()
    if req.boundary is not None:
        out["boundary"] = grid_of(net, req.x_range, req.y_range, req.boundary)
    return answer(out)


@router.post("/maps", response_model=MapsAnswer)
async def maps(req: MapsRequest) -> JSONResponse:
    """Every input's and neuron's activation over a resolution × resolution grid of the plane of
    (x1, x2), from one batched forward pass: per neuron, base64 levels 0…255 (one byte a cell,
    rows from the lowest y) along the boundary's colour scale, and the low and high they span;
    with `boundary`, /api/grid's answer for the same plane too."""
    # a thread, or past Limits.lane_work a heavy-lane helper process (byhand.web.heavy)
    return await heavy.compute(_maps, req, work=req.model.n_parameters * _cells(req))


# --- short states for lesson links ----------------------------------------------------------------


class EncodeRequest(BaseModel):
    """A page state (any JSON object; a model under m or model) and what its numbers keep."""

    model_config = {"extra": "forbid"}

    state: dict[str, Any]
    #: exact, float32 or shown; "link": the most exact of them whose code fits a link
    precision: Literal[(*shortstate.PRECISIONS, "link")] = "shown"  # type: ignore[valid-type]


class EncodeAnswer(BaseModel):
    code: str
    chars: int
    #: whether the code fits a shared link (shortstate.LINK_CHARS); otherwise offer a file
    fits_link: bool
    precision: str


class DecodeRequest(BaseModel):
    model_config = {"extra": "forbid"}

    code: Annotated[str, Field(min_length=1, max_length=shortstate.MAX_CODE_CHARS)]


class DecodeAnswer(BaseModel):
    state: dict[str, Any]


def _encode(req: EncodeRequest) -> JSONResponse:
    if req.precision == "link":
        code, precision = shortstate.for_link(req.state)
    else:
        code, precision = shortstate.encode(req.state, req.precision), req.precision
    return answer(
        {
            "code": code,
            "chars": len(code),
            "fits_link": len(code) <= shortstate.LINK_CHARS,
            "precision": precision,
        }
    )


@router.post("/state/encode", response_model=EncodeAnswer)
async def encode_state(req: EncodeRequest) -> JSONResponse:
    """A short code for a page state: its numbers packed (exact, float32, or the 4 decimals the
    page shows), deflated, in base64url; fits_link says whether it is short enough to share."""
    return await run_in_threadpool(_encode, req)


@router.post("/state/decode", response_model=DecodeAnswer)
async def decode_state(req: DecodeRequest) -> JSONResponse:
    """The page state a short code holds; a code byhand did not write is a 422 saying why."""
    state = await run_in_threadpool(shortstate.decode, req.code)
    return answer({"state": state})
