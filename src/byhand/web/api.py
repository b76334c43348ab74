"""The JSON API under /api: the lecture's passes on any network the request carries.

Every request holds its own network (a model file), so the server keeps nothing between
requests and students never see each other's numbers. The numbers come from the engine
alone; this module only checks requests, calls it and shapes the answers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from byhand import data, features, lecture, modelfile, notation
from byhand.errors import ByhandError, unknown
from byhand.explanation import explain
from byhand.limits import LIMITS
from byhand.mathml import to_mathml
from byhand.network import Network
from byhand.optimizers import OPTIMIZERS
from byhand.train import Trainer
from byhand.web import heavy, jobs
from byhand.web.schemas import (
    BackpropAnswer,
    BackpropRequest,
    DatasetAnswer,
    DatasetInfo,
    ErrorAnswer,
    ExplainAnswer,
    ExplainRequest,
    ForwardAnswer,
    ForwardRequest,
    GridAnswer,
    GridRequest,
    LectureAnswer,
    StepAnswer,
    StepRequest,
    TrainRequest,
    check_table,
    check_targets,
    check_work,
    csv_budget,
    default_every,
    finite,
    sample_count,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorAnswer, "description": "The request is malformed or out of bounds."},
    413: {"model": ErrorAnswer, "description": "The request body is too large."},
}

router = APIRouter(responses=ERRORS, tags=["api"])


def answer(data: dict | list) -> JSONResponse:
    """The answer as JSON, serialised here (in the worker thread, not on the event loop)."""
    return JSONResponse(data)


def _check(net: Network, inputs, target=None) -> None:
    """Inputs (and targets) that fit the network, or an error naming the field."""
    X, _ = _checked(lambda: net.check_inputs(inputs), "inputs")
    if target is not None:
        check_targets(net, _checked(lambda: net.check_targets(target, X.shape[0]), "target"))


# --- the lecture's passes -----------------------------------------------------------------------


@router.get("/lecture", response_model=LectureAnswer)
def lecture_defaults(request: Request) -> JSONResponse:
    """The lecture's network (all weights and biases 1), inputs [1, 0, 1], target [1, 0], η = 0.5;
    or the network `byhand serve --model FILE` was given, with zeros where the lecture's numbers
    do not fit it."""
    net = getattr(request.app.state, "model", None) or lecture.lecture_network()
    n, k = net.sizes[0], net.sizes[-1]
    return answer(
        {
            "model": modelfile.to_dict(net),
            "inputs": list(lecture.INPUTS) if n == len(lecture.INPUTS) else [0.0] * n,
            "target": list(lecture.TARGET) if k == len(lecture.TARGET) else [0.0] * k,
            "lr": lecture.LEARNING_RATE,
        }
    )


def _forward(req: ForwardRequest) -> JSONResponse:
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾ and a⁽ˡ⁾ = f(z⁽ˡ⁾) for every layer; a⁽⁰⁾ = x."""
    net = req.model
    _check(net, req.inputs)
    check_work(net, sample_count(req.inputs))
    fwd = net.forward(req.inputs)
    finite(fwd.zs + fwd.activations, "the forward pass")
    return answer(fwd.to_dict())


def _backprop(net: Network, inputs, target):
    _check(net, inputs, target)
    check_work(net, sample_count(inputs))
    fwd = net.forward(inputs)
    back = net.backward(fwd, target)
    finite([back.losses, *back.deltas, *back.grad_W, *back.grad_b], "backpropagation")
    return fwd, back


def _after_step(net, fwd, back, req) -> tuple:
    """The model after one step with the request's η, and its loss; overflow is a clear error."""
    updated, loss_after = net.after_step(fwd, back, req.target, req.lr)
    finite([p for layer in updated.layers for p in (layer.W, layer.b)], "the gradient step")
    finite([np.array(loss_after)], "the loss after the step")
    return updated, loss_after


def _backprop_answer(req: BackpropRequest) -> JSONResponse:
    """The loss, δ⁽ˡ⁾ and ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾ for every layer, and the model after one step
    W ← W − η ∂L/∂W (the same JSON as `byhand backprop --json`)."""
    net = req.model
    fwd, back = _backprop(net, req.inputs, req.target)
    updated, loss_after = _after_step(net, fwd, back, req)
    return answer(
        {**back.to_dict(), "updated_model": modelfile.to_dict(updated), "loss_after": loss_after}
    )


def _explain(req: ExplainRequest) -> JSONResponse:
    """∂L/∂(name) by the chain rule, each factor named and numbered, with the formula as MathML."""
    net = req.model
    _check(net, req.inputs, req.target)
    try:
        result = explain(net, req.name, req.inputs, req.target)
    except ByhandError as err:
        raise ByhandError(f"{_field_of(str(err))}{err}") from None
    out = result.to_dict()
    finite([np.array([out["gradient"]])], "the chain rule")
    out["mathml"] = to_mathml(out["formula_tex"])
    return answer(out)


def _field_of(message: str) -> str:
    """A field name for an engine message that lacks one."""
    if message.startswith(("unknown parameter", "no parameter", "parameter name")):
        return "name: "
    return ""


@lru_cache(maxsize=8)
def _parameter_names(sizes: tuple[int, ...]) -> np.ndarray:
    """The lecture's names of every parameter, in the order `_flat` lays the parameters out."""
    return np.array([notation.lecture_name(r, sizes) for r in notation.all_refs(sizes)])


def _flat(net: Network) -> np.ndarray:
    """All parameters in the order of `notation.all_refs`: each neuron's weights, then its bias."""
    return np.concatenate([np.hstack([la.W, la.b[:, None]]).ravel() for la in net.layers])


def _step(req: StepRequest) -> JSONResponse:
    """One step of gradient descent, W ← W − η ∂L/∂W, b ← b − η ∂L/∂b, and what it changed."""
    net = req.model
    fwd, back = _backprop(net, req.inputs, req.target)
    updated, loss_after = _after_step(net, fwd, back, req)
    moved = _flat(updated) != _flat(net)
    # names are made one by one in Python: only for a network small enough to draw them
    named = net.n_parameters <= LIMITS.max_drawn_parameters
    changed = _parameter_names(tuple(net.sizes))[moved].tolist() if named else []
    return answer(
        {
            "model": modelfile.to_dict(updated),
            "loss_before": back.loss,
            "loss_after": loss_after,
            "changed": changed,
            "changed_count": int(moved.sum()),
        }
    )


def _grid(req: GridRequest) -> JSONResponse:
    """The outputs of a 2-input network on a grid of points, and the class at each point
    (argmax o, or o ≥ 0.5 with one output): the decision boundary behind a 2-D data set."""
    return answer(grid_of(req.model, req.x_range, req.y_range, req.resolution))


def grid_of(net: Network, x_range, y_range, n: int) -> dict:
    """What /api/grid answers for `net` on an n × n grid of the plane (also the neuron maps'
    answer carries it, so a live update is one request)."""
    if net.sizes[0] != 2 and features.of(net) is None:
        raise ByhandError(
            f"model: the grid needs a network with 2 inputs (x and y), or input features made "
            f"from them; this one has {net.sizes[0]} inputs"
        )
    xs = np.linspace(*x_range, n)
    ys = np.linspace(*y_range, n)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    check_work(net, len(points), net.sizes[-1] + 1)  # the answer: o and the class per point
    o = net.forward(features.raw_inputs(net, points)).activations[-1]
    finite([o], "the network's outputs on the grid")
    k = o.shape[1]
    classes = (o[:, 0] >= 0.5).astype(int) if k == 1 else o.argmax(axis=1)
    return {
        "xs": xs.tolist(),
        "ys": ys.tolist(),
        "outputs": o.reshape(n, n, k).tolist(),
        "classes": classes.reshape(n, n).tolist(),
    }


#: requests cheaper than this many multiply-adds are answered on the event loop at once; dearer
#: ones go to a worker thread, so one student's big network never holds up the others' clicks
INLINE_WORK = 20_000


async def _run(call, req, samples: int) -> JSONResponse:
    work = req.model.n_parameters * samples
    if work <= INLINE_WORK:
        return _quietly(call, req)
    # a thread, or past Limits.lane_work a heavy-lane helper process (byhand.web.heavy)
    return await heavy.compute(_quietly, call, req, work=work)


def _quietly(call, req) -> JSONResponse:
    """call(req) without NumPy's overflow warnings: `finite` turns overflow into a clear error."""
    with np.errstate(all="ignore"):
        return call(req)


@router.post("/forward", response_model=ForwardAnswer)
async def forward(req: ForwardRequest) -> JSONResponse:
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾ and a⁽ˡ⁾ = f(z⁽ˡ⁾) for every layer; a⁽⁰⁾ = x."""
    return await _run(_forward, req, sample_count(req.inputs))


@router.post("/backprop", response_model=BackpropAnswer)
async def backprop(req: BackpropRequest) -> JSONResponse:
    """The loss, δ⁽ˡ⁾ and ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾ for every layer, and the model after one step
    W ← W − η ∂L/∂W (the same JSON as `byhand backprop --json`)."""
    return await _run(_backprop_answer, req, sample_count(req.inputs))


@router.post("/explain", response_model=ExplainAnswer)
async def explain_parameter(req: ExplainRequest) -> JSONResponse:
    """∂L/∂(name) by the chain rule, each factor named and numbered, with the formula as MathML."""
    return await _run(_explain, req, sample_count(req.inputs))


@router.post("/step", response_model=StepAnswer)
async def step(req: StepRequest) -> JSONResponse:
    """One step of gradient descent, W ← W − η ∂L/∂W, b ← b − η ∂L/∂b, and what it changed."""
    return await _run(_step, req, sample_count(req.inputs))


@router.post("/grid", response_model=GridAnswer)
async def grid(req: GridRequest) -> JSONResponse:
    """The outputs of a 2-input network on a grid of points, and the class at each point
    (argmax o, or o ≥ 0.5 with one output): the decision boundary behind a 2-D data set."""
    return await _run(_grid, req, req.resolution**2)


# --- data sets ----------------------------------------------------------------------------------


def _dataset_json(name: str, ds) -> dict:
    """A data set as JSON: inputs, and labels with class names (a classification set) or the
    numbers to predict (a regression set, `target`); never a one-hot table the labels imply."""
    X = np.asarray(ds.X, dtype=float)
    check_table(X.shape[0], X.shape[1] + ds.Y.shape[1], "the data set")
    finite([X, np.asarray(ds.Y, dtype=float)], "the data set")
    out = {
        "name": name,
        "description": str(getattr(ds, "description", "") or ""),
        "features": [str(f) for f in ds.feature_names],
        # a regression set (numbers to predict) has no classes and no labels
        "classes": [str(c) for c in ds.class_names or []],
        "inputs": X.tolist(),
        "labels": [] if ds.labels is None else np.asarray(ds.labels, dtype=int).tolist(),
    }
    if not ds.is_classification:
        out["target"] = np.asarray(ds.Y, dtype=float).tolist()
    return out


@router.get("/datasets", response_model=list[DatasetInfo])
def datasets() -> JSONResponse:
    """The data sets the server can make: name, description, features, classes, dims."""
    return answer(_listing())


@lru_cache(maxsize=1)
def _listing() -> list[dict]:
    listing = []
    for name, description in data.DATASETS.items():
        ds = data.load(name, seed=0)
        listing.append(
            {
                "name": name,
                "description": str(description),
                "features": [str(f) for f in ds.feature_names],
                "classes": [str(c) for c in ds.class_names or []],
                "dims": int(np.asarray(ds.X).shape[1]),
                "synthetic": name in data.SYNTHETIC,
            }
        )
    return listing


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "target"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "a CSV file"},
                    "target": {"type": "string", "description": "the column to predict"},
                },
            }
        }
    },
}
_TOO_BIG = f"file: a CSV upload may be at most {LIMITS.max_upload_bytes} bytes"


# the upload comes before /datasets/{name}: OPTIONS on it then names POST as its method
@router.post(
    "/datasets/upload", response_model=DatasetAnswer, openapi_extra={"requestBody": UPLOAD_BODY}
)
async def upload(request: Request) -> JSONResponse:
    """A CSV file of the user's own, parsed in memory: every column but `target` is a feature.

    The form is parsed as it arrives, within the limits: one file, at most `max_form_parts`
    parts, `max_field_bytes` in any other field, `max_upload_bytes` in the file."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ByhandError("body: send a multipart/form-data form with fields file and target")
    try:
        form = await request.form(
            max_files=1, max_fields=LIMITS.max_form_parts, max_part_size=LIMITS.max_field_bytes
        )
    except StarletteHTTPException as err:
        if err.status_code == 413:
            raise
        raise ByhandError(f"body: not a readable multipart/form-data form ({err.detail})") from None
    try:
        fields = {}
        for key in ("file", "target"):
            value = form.get(key)
            if value is None:
                raise ByhandError(f"{key}: missing from the form")
            if isinstance(value, str):
                fields[key] = value.encode()
            else:
                fields[key] = await value.read(LIMITS.max_upload_bytes + 1)
        if len(fields["file"]) > LIMITS.max_upload_bytes:
            raise HTTPException(413, _TOO_BIG)
    finally:
        await form.close()
    return await run_in_threadpool(_quietly, _parse_upload, fields)


def _parse_upload(fields: dict[str, bytes]) -> JSONResponse:
    try:
        target = fields["target"].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ByhandError("target: must be text (UTF-8)") from None
    if not target or len(target) > 200:
        raise ByhandError("target: give the name of the column to predict")
    csv_budget(fields["file"], target)
    ds = _checked(lambda: data.from_csv(fields["file"], target), "file")
    return answer(_dataset_json("upload", ds))


@router.get("/datasets/{name}", response_model=DatasetAnswer)
def dataset(
    name: Annotated[str, Path(max_length=60)],
    samples: Annotated[int | None, Query(ge=1, le=LIMITS.max_samples)] = None,
    noise: Annotated[float | None, Query(ge=0, le=100, allow_inf_nan=False)] = None,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
) -> Response:
    """One data set's samples: inputs, and class labels (or the numbers to predict)."""
    if name == "upload":  # the upload's path, asked with GET
        raise HTTPException(405, "a CSV file is uploaded with POST", headers={"Allow": "POST"})
    if name not in data.DATASETS:
        raise unknown("data set", name, data.DATASETS, "name")
    return Response(_dataset_body(name, samples, noise, seed), media_type="application/json")


@lru_cache(maxsize=32)
def _dataset_body(name: str, samples: int | None, noise: float | None, seed: int) -> bytes:
    """One data set's answer, serialised once: a class asks for the same few sets (digits' is
    577 KB of JSON and about 40 ms to make), and a set is the same for the same arguments.
    At most 32 answers of at most `max_samples` samples are kept."""
    ds = _checked(lambda: data.load(name, samples=samples, noise=noise, seed=seed), "name")
    return answer(_dataset_json(name, ds)).body


# --- training -----------------------------------------------------------------------------------

_JSON_ERROR = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
        }
    }
}
TRAIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: progress …, then done or error.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    413: {"description": "The request body is too large.", "content": _JSON_ERROR},
    422: {"description": "The request is malformed or out of bounds.", "content": _JSON_ERROR},
    429: {
        "description": "This client runs as many trainings as one may; wait for one to end.",
        "content": _JSON_ERROR,
    },
    503: {"description": "Every training slot is taken; try again soon.", "content": _JSON_ERROR},
}


def build_job(req: TrainRequest, limits=LIMITS, client: str = "") -> jobs.Job:
    """A job from a request: the network, its training (and test) data, the optimiser."""
    net = req.model
    d = req.data
    names = features.of(net)
    if d is None or d.dataset is None:
        source, where = (d, "data.") if d is not None else (req, "")
        inputs = source.inputs
        if names is not None:  # raw points (x1, x2): the network takes their features
            inputs = _checked(lambda: features.expand(source.inputs, names), f"{where}inputs")
        X, _ = _checked(lambda: net.check_inputs(inputs), f"{where}inputs")
        check_table(X.shape[0], X.shape[1] + net.sizes[-1], f"{where}inputs")
        if d is not None and d.labels:
            labels = _labels(d.labels, X.shape[0], net, d.class_names)
        if source.target is None:
            Y = data.one_hot(labels, net.sizes[-1])
        else:
            Y = _checked(lambda: net.check_targets(source.target, X.shape[0]), f"{where}target")
        extra = {}
        if d is not None:
            # an uploaded regression set comes back with labels [] and classes []: none
            extra = {
                "labels": d.labels or None,
                "feature_names": d.feature_names if names is None else features.labels(names),
                "class_names": d.class_names or None,
            }
        ds = _checked(lambda: data.Dataset("data", "", X, Y, **extra), "data")
    else:
        if d.dataset not in data.DATASETS:
            raise unknown("data set", d.dataset, data.DATASETS, "data.dataset")
        ds = _checked(
            lambda: data.load(d.dataset, samples=d.samples, noise=d.noise, seed=d.seed), "data"
        )
        if names is not None:
            ds = _checked(lambda: features.expand_dataset(ds, names, "model.features"), "data")
        _checked(lambda: net.check_inputs(ds.X[:1]), "data")
        _checked(lambda: net.check_targets(ds.Y[:1], 1), "data")
        check_table(len(ds), ds.n_features + ds.n_outputs, "data")
    if len(ds) > LIMITS.max_samples:
        raise ByhandError(f"data: at most {LIMITS.max_samples} samples (got {len(ds)})")
    if req.epochs is not None:
        _check_output(net, ds)
    else:
        check_targets(net, ds.Y, "data.target" if d is not None else "target")
    prepared = None
    test_rows = None
    if d is not None:
        # the step `byhand train` takes too: split, then standardise with the training part's
        # mean and deviation; the model the job returns has the scaling folded in (raw inputs)
        scale = d.standardise if d.standardise is not None else req.epochs is not None
        prepared = _checked(
            lambda: data.prepare(ds, d.test_split, d.seed, standardise=scale), "data.test_split"
        )
        if d.test_split > 0:
            test_rows = _test_rows(ds, d.test_split, d.seed)
        ds, test = prepared.train, prepared.test
        if req.resume and prepared.standardised:
            net = _on_standardised(net, prepared.mean, prepared.std)
    else:
        test = None
    check_work(net, len(ds))
    total = req.steps or req.epochs or 1
    every = req.every or default_every(total)
    # steps: a gradient step on every sample unless a batch is given; epochs: batches of 10
    batch = req.batch if req.batch is not None else (len(ds) if req.epochs is None else 10)
    # the Trainer checks the options here, so a bad one is a 422 before the stream starts;
    # the job itself is trained by another one, in a worker process
    trainer = _checked(
        lambda: Trainer(
            net, ds, test, optimizer=req.optimizer, lr=req.lr, l2=req.l2, seed=req.seed, batch=batch
        ),
        "optimizer" if req.optimizer not in OPTIMIZERS else "data",
    )
    if req.state is not None:
        standardised = prepared is not None and prepared.standardised
        if req.state.standardised != standardised:
            raise ByhandError(
                "state: it is of a training on "
                f"{'standardised' if req.state.standardised else 'raw'} data, this one is on "
                f"{'standardised' if standardised else 'raw'} data; start afresh without it"
            )
        _checked(lambda: trainer.resume(req.state.trainer), "state")
    return jobs.Job(
        model=modelfile.npz_bytes(net),
        train=ds,
        test=test,
        optimizer=req.optimizer,
        lr=req.lr,
        l2=req.l2,
        batch=batch,
        seed=req.seed,
        total=total,
        every=every,
        unit="epoch" if req.epochs is not None else "step",
        limits=limits,
        prepared=prepared,
        client=client,
        pace=req.pace,
        test_rows=test_rows,
        state=None if req.state is None else req.state.model_dump(),
    )


def _test_rows(ds: data.Dataset, test_split: float, seed: int) -> list[int]:
    """The rows of `ds` that `data.prepare` holds out as the test part: the same seeded split
    of a set whose one feature is the row number (the split reads only labels and the seed)."""
    from dataclasses import replace

    rows = np.arange(len(ds), dtype=np.float64)[:, None]
    numbered = replace(ds, X=rows, feature_names=["row"], mean=None, std=None)
    _, test = numbered.split(test_split, seed)
    return sorted(int(r) for r in test.X[:, 0])


def _on_standardised(net: Network, mean, std) -> Network:
    """A copy of `net` (of raw inputs x) that takes x' = (x − μ)/s instead: the inverse of
    `data.fold_standardisation`. z = Wx + b = W(s x' + μ) + b, so W' = W s (column by
    column) and b' = b + Wμ."""
    out = net.astype("float64")
    first = out.layers[0]
    first.b = first.b + first.W @ np.asarray(mean, dtype=np.float64)
    first.W = first.W * np.asarray(std, dtype=np.float64)
    out.pack()
    return out


def _labels(labels: list[int], samples: int, net: Network, class_names) -> np.ndarray:
    """Class labels, one per sample, each a class the output layer has: 0 … K−1."""
    k = len(class_names) if class_names else net.sizes[-1]
    if len(labels) != samples:
        raise ByhandError(f"data.labels: {len(labels)} labels for {samples} samples")
    if k != net.sizes[-1]:
        raise ByhandError(
            f"data.class_names: {k} classes but the network has {net.sizes[-1]} outputs"
        )
    top = max(labels)
    if top >= k:
        raise ByhandError(
            f"data.labels: label {top} is not a class; with {k} classes labels run from 0 to {k - 1}"
        )
    return np.asarray(labels, dtype=np.int64)


#: output activations whose outputs lie in [0, 1]
_BOUNDED = ("sigmoid", "softmax")


def _check_output(net: Network, ds: data.Dataset) -> None:
    """Refuse a data set's targets the network's output layer cannot produce, such as numbers
    to predict (regression) with a softmax output, before any training starts."""
    act = net.layers[-1].activation.name
    Y = ds.Y
    if act == "softmax" and Y.shape[1] == 1:
        raise ByhandError(
            "model: a softmax output with one neuron always gives 1; to predict a number use "
            "one identity output with the loss mse or half_sse"
        )
    if (act in _BOUNDED or net.loss.name == "cross_entropy") and (Y.min() < 0.0 or Y.max() > 1.0):
        what = "numbers to predict (regression)" if not ds.is_classification else "targets"
        raise ByhandError(
            f"model: the data's {what} run from {Y.min():.4g} to {Y.max():.4g}, which a "
            f"{act} output with the loss {net.loss.name} cannot reach; use one identity output "
            "with the loss mse or half_sse"
        )


def _checked(call, where: str):
    """call(), with the field's name put before an engine error's message."""
    try:
        return call()
    except ByhandError as err:
        raise ByhandError(f"{where}: {err}") from None


@router.post(
    "/train", response_class=jobs.TrainingStream, status_code=200, responses=TRAIN_RESPONSES
)
async def train(req: TrainRequest, request: Request) -> Response:
    """Train and stream progress as server-sent events: `progress` every `every` steps or
    epochs, then `done` with the trained model and its history, or `error`."""
    client = request.client.host if request.client else ""
    job = await run_in_threadpool(build_job, req, jobs.POOL.limits, client)
    return jobs.admitted(job)
