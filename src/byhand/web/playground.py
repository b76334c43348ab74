"""Beyond the playground: the page's "show the code" script, neuron maps and short lesson states.

    POST /api/playground/script   {"model", "inputs", "target", "lr", "kind": "numpy"|"torch"}
                                  → {"filename", "script"}: what `byhand export --numpy-script`
                                  (or --torch-script) writes for the same network and numbers
    POST /api/playground/maps     {"model", "x_range", "y_range", "resolution"}
                                  → every neuron's activation over the input plane (byhand.maps)
    POST /api/playground/state/encode  {"state": {…}} → {"code", "bytes"}  (byhand.shortstate)
    POST /api/playground/state/decode  {"code": "…"} → {"state": {…}}

The numbers come from the engine; this module checks requests and shapes the answers, as
`byhand.web.api` does, within the server's limits.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from byhand.errors import ByhandError
from byhand.export.script import numpy_script, torch_script
from byhand.web.api import ERRORS, _check, answer
from byhand.web.schemas import BackpropRequest, check_work, sample_count

router = APIRouter(prefix="/api/playground", responses=ERRORS, tags=["playground"])

SCRIPTS = {"numpy": numpy_script, "torch": torch_script}


class ScriptRequest(BackpropRequest):
    """A network, its inputs, target and η, and which script to write."""

    kind: Literal["numpy", "torch"] = "numpy"


class ScriptAnswer(BaseModel):
    filename: str
    script: str


#: the most weights a script may spell out (its text grows about 20 bytes a weight)
MAX_SCRIPT_PARAMETERS = 100_000


def _script(req: ScriptRequest) -> JSONResponse:
    net = req.model
    _check(net, req.inputs, req.target)
    check_work(net, sample_count(req.inputs))
    if net.n_parameters > MAX_SCRIPT_PARAMETERS:
        raise ByhandError(
            f"model: {net.n_parameters} weights and biases are more than a script spells out "
            f"here ({MAX_SCRIPT_PARAMETERS}); use byhand export on your own machine"
        )
    text = SCRIPTS[req.kind](net, req.inputs, req.target, req.lr)
    shape = "-".join(map(str, net.sizes))
    return answer({"filename": f"byhand-{shape}-{req.kind}.py", "script": text})


@router.post("/script", response_model=ScriptAnswer)
async def script(req: ScriptRequest) -> JSONResponse:
    """A standalone NumPy (or PyTorch) script of the forward pass, the loss, backpropagation and
    one gradient step for the request's network, inputs, target and η, printing every number."""
    return await run_in_threadpool(_script, req)
