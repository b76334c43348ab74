"""/api/train goes on with a run's optimiser: N one-step jobs, each given the `state` the last
one's `done` event returned, train exactly as the engine's one Trainer taking N steps (Adam's
running means, momentum's velocity and the place in the shuffled pass carried over), to 1e-12 in
float64. The reference is byhand's Trainer on data.prepare's standardised split, folded back to
raw inputs with Prepared.raw_model, as `byhand train` does; never the answers themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from byhand import data, modelfile
from byhand.network import Network
from byhand.train import Trainer
from byhand.web.app import create_app
from test_api import parse_sse

XOR = {"dataset": "xor", "samples": 120, "noise": 0.05, "seed": 0, "test_split": 0.2}
RUN = {"lr": 0.05, "batch": 16, "seed": 3}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def start() -> Network:
    return Network.create([2, 5, 2], "tanh", "softmax", "cross_entropy", seed=0)


def job(client, model: dict, state, optimizer: str, **amount) -> dict:
    body = {"model": model, "optimizer": optimizer, **RUN, **amount}
    body["data"] = {**XOR, "standardise": True}
    if state is not None:
        body.update(state=state, resume=True)
    r = client.post("/api/train", json=body)
    assert r.status_code == 200, r.text
    name, done = parse_sse(r.text)[-1]
    assert name == "done", done
    return done


def engine(optimizer: str, moves: list[int | None]) -> Network:
    """The network after one Trainer's advance(k) for each k of `moves`, on raw inputs."""
    ds = data.load("xor", samples=120, noise=0.05, seed=0)
    prepared = data.prepare(ds, 0.2, 0, standardise=True)
    net = start()
    trainer = Trainer(net, prepared.train, prepared.test, optimizer=optimizer, **RUN)
    for k in moves:
        trainer.advance(k)
    return prepared.raw_model(net)


def gap(model: dict, net: Network) -> float:
    got = modelfile.from_dict(model)
    return max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(got.parameters(), net.parameters(), strict=True)
    )


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_n_one_step_jobs_are_n_steps_of_one_run(client, optimizer):
    # 96 training rows in batches of 16: 6 steps a pass, so 8 steps cross into a second pass
    model, state = modelfile.to_dict(start()), None
    for _ in range(8):
        done = job(client, model, state, optimizer, steps=1)
        model, state = done["model"], done["state"]
    assert state["trainer"]["steps"] == 8 and state["trainer"]["epochs"] == 1
    assert gap(model, engine(optimizer, [1] * 8)) < 1e-12
    # then "One epoch": to the end of the pass under way, as the engine's advance() goes
    done = job(client, model, state, optimizer, epochs=1)
    assert done["epochs"] == 1
    assert gap(done["model"], engine(optimizer, [1] * 8 + [None])) < 1e-12
    # without the state each job starts the optimiser and the shuffle again: not one run
    model = modelfile.to_dict(start())
    for _ in range(8):
        model = job(client, model, None, optimizer, steps=1)["model"]
    assert gap(model, engine(optimizer, [1] * 8)) > 1e-6


def with_m(state: dict, m: list) -> dict:
    trainer = state["trainer"]
    return {**state, "trainer": {**trainer, "optimizer": {**trainer["optimizer"], "m": m}}}


def with_trainer(state: dict, **change) -> dict:
    return {**state, "trainer": {**state["trainer"], **change}}


def test_the_pass_under_way_comes_from_the_states_generator_not_from_replaying_passes(client):
    # 8 steps: the second pass is under way. Its order is drawn again from the generator state
    # the state carries (as decimal text: JSON through a page keeps 53 bits of a number), so
    # the count of passes before it costs nothing: no pass is drawn again to get there
    model, state = modelfile.to_dict(start()), None
    for _ in range(8):
        done = job(client, model, state, "adam", steps=1)
        model, state = done["model"], done["state"]
    shuffle = state["trainer"]["shuffle"]
    assert isinstance(shuffle["state"], str) and int(shuffle["state"]) >= 0
    after = job(client, model, state, "adam", steps=1)["model"]
    assert gap(after, engine("adam", [1] * 9)) < 1e-12
    many = with_trainer(state, epochs=99_999)  # within MAX_EPOCHS: one draw, not 99,999
    assert job(client, model, many, "adam", steps=1)["model"] == after


def test_a_state_of_another_run_is_refused_by_name(client):
    done = job(client, modelfile.to_dict(start()), None, "adam", steps=2)
    model, state = done["model"], done["state"]
    body = {"model": model, "steps": 1, **RUN, "resume": True, "data": {**XOR, "standardise": True}}
    cases = [
        ({"optimizer": "momentum", "state": state}, "state: it is the state of 'adam'"),
        (
            {"optimizer": "adam", "batch": 8, "state": state},
            "state: it is of a training with batch 16",
        ),
        (
            {"optimizer": "adam", "state": state, "data": {**XOR, "standardise": False}},
            "state: it is of a training on standardised data",
        ),
        (
            {"optimizer": "adam", "state": with_m(state, [1.0])},
            "state: the state's m must hold 27 finite numbers",
        ),
        (
            {"optimizer": "adam", "state": with_trainer(state, shuffle={"state": 1.5})},
            "state: the state's shuffle must be a training's generator state",
        ),
    ]
    for change, message in cases:
        r = client.post("/api/train", json={**body, **change})
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(message), r.json()["detail"]
