"""The Practice API: exercises from a seed, answers checked, the solution step by step."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byhand.mathml import to_mathml
from byhand.teach import generate
from byhand.teach.solution import SECTIONS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from byhand.web.app import create_app


def asked(value: float) -> float:
    """A value as the sheet asks for it: 4 decimals, or 3 significant figures below 0.1."""
    if value == 0 or abs(value) >= 0.1:
        return round(value, 4)
    return round(value, 2 - math.floor(math.log10(abs(value))))


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


def test_exercise_is_the_seeds_sheet(client):
    a = client.get("/api/practice/exercise", params={"seed": 21}).json()
    assert a == client.get("/api/practice/exercise", params={"seed": 21}).json()
    sheet = generate(21)
    assert a["asked"] == sheet.asked
    given = {g["name"]: g["value"] for g in a["givens"]}
    assert given["w31"] == sheet.net["w31"] and given["η"] == sheet.learning_rate
    assert [given[f"x{j + 1}"] for j in range(3)] == sheet.inputs
    assert [s["section"] for s in a["sections"]] == list(SECTIONS)
    fresh = client.get("/api/practice/exercise").json()
    assert isinstance(fresh["seed"], int) and fresh["seed"] >= 0


def test_exercise_options(client):
    r = client.get(
        "/api/practice/exercise",
        params={"seed": 5, "layers": "2,2,1", "activation": "tanh", "questions": "forward"},
    ).json()
    assert r["asked"] == generate(5, "2,2,1", "tanh", "forward").asked
    assert [s["section"] for s in r["sections"]] == ["forward"]


def _post(client, **body):
    return client.post("/api/practice/check", json=body)


def test_key_checks_right_and_a_planted_slip_is_named(client):
    sheet = generate(8)
    key = {s.name: asked(s.value) for s in sheet.solution.steps}
    report = _post(client, seed=8, answers=key).json()
    assert report["all_right"] and report["right"] == len(sheet.asked)
    slipped = sheet.solution.evaluate(slip="f_not_prime")
    answers = {name: str(asked(v)) for name, v in slipped.items()}  # boxes send text
    report = _post(client, seed=8, answers=answers).json()
    first = report["first_wrong"]
    assert first == "δ_o1"
    verdict = next(v for v in report["verdicts"] if v["name"] == first)
    assert verdict["slip"] == "f_not_prime" and verdict["slip_title"] == "σ instead of σ'"


def test_a_verdict_says_what_was_written_and_what_was_expected(client):
    sheet = generate(8)
    sheet_json = client.get("/api/practice/exercise?seed=8").json()
    assert sheet_json["precision"] == "4 decimals, or 3 significant figures below 0.1"
    for g in sheet_json["givens"]:  # what an input box can hold and read back
        assert float(g["value_input"]) == g["value"]
    h1 = sheet.solution.values["h1"]
    report = _post(client, seed=8, answers={"h1": "0.5", "z_h1": "-0.0021"}).json()
    by = {v["name"]: v for v in report["verdicts"]}
    assert by["h1"]["answer_text"] == "0.5" and by["z_h1"]["answer_text"] == "−0.0021"
    assert by["h1"]["expected_text"] == f"{h1:.4f}".replace("-", "−")
    assert by["h1"]["message"].startswith("h1 = 0.5 is ")  # rounded too far, from σ(−0.0021)
    for v in by.values():  # the fields a stored verdict keeps, old and new
        assert {"name", "status", "answer", "expected", "tolerance", "message", "slip"} <= set(v)
        assert {"slip_title", "slip_at", "depends_on", "own_value", "carried_from"} <= set(v)


def test_empty_boxes_are_not_answered(client):
    report = _post(client, seed=8, answers={"z_h1": "", "h1": None}).json()
    assert report["answered"] == 0 and not report["all_right"]
    assert {v["status"] for v in report["verdicts"]} == {"missing"}


def test_solution_steps_are_the_engines(client):
    r = client.get("/api/practice/solution", params={"seed": 8, "lr": 0.5}).json()
    sheet = generate(8, learning_rate=0.5)
    values = sheet.solution.values
    assert [s["name"] for s in r["steps"]] == [s.name for s in sheet.solution.steps]
    for step in r["steps"]:
        assert step["value"] == values[step["name"]]
        assert step["mathml"] == to_mathml(step["tex"])
    w = next(s for s in r["steps"] if s["name"] == "w31_new")
    assert w["text"].startswith("w31_new = w31 − η·∂L/∂w31 = ")


@pytest.mark.parametrize(
    "method, url, body, detail",
    [
        ("get", "/api/practice/exercise?seed=-1", None, "seed: must be at least 0"),
        ("get", "/api/practice/exercise?seed=x", None, "seed: must be a whole number"),
        ("get", "/api/practice/exercise?seed=1&layers=3,9,2", None, "width"),
        ("get", "/api/practice/exercise?seed=1&activation=softmax", None, "activation"),
        ("get", "/api/practice/exercise?seed=1&questions=dance", None, "dance"),
        ("get", "/api/practice/solution", None, "seed: required"),
        ("post", "/api/practice/check", {"seed": 1, "answers": {"h9": 1}}, "unknown quantity"),
        (
            "post",
            "/api/practice/check",
            {"seed": 1, "answers": {"h1": "abc"}},
            "h1 must be a number",
        ),
        (
            "post",
            "/api/practice/check",
            {"seed": 1, "answers": {"h1": True}},
            "h1 must be a number",
        ),
        ("post", "/api/practice/check", {"seed": 1, "answers": [1]}, "answers"),
        ("post", "/api/practice/check", {"seed": 1, "color": 1}, "color: unknown field"),
        ("post", "/api/practice/check", {"answers": {}}, "seed: required"),
    ],
)
def test_bad_requests_are_one_sentence(client, method, url, body, detail):
    r = client.request(method.upper(), url, json=body)
    assert r.status_code == 422
    assert detail in r.json()["detail"] and "\n" not in r.json()["detail"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(-5, 2**64),
    layers=st.sampled_from(["3,2,2", "2,2,1", "1,1", "4,4,4,4", "5,1", "0,2", "9"]),
    answers=st.dictionaries(
        st.sampled_from(["h1", "o1", "L", "dL/dw31", "w11_new", "δ_h1", "x1", "zz"])
        | st.text(max_size=6),
        json_values,
        max_size=5,
    ),
)
def test_any_request_is_answered_200_or_422(client, seed, layers, answers):
    r = client.post(
        "/api/practice/check", json={"seed": seed, "layers": layers, "answers": answers}
    )
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert isinstance(r.json()["detail"], str)
