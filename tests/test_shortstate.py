"""Short codes for lesson links: what each precision keeps, the size of a 64-30-10 state, and
hostile codes refused with a sentence saying why.

The 64-30-10 state is made as `byhand train --data digits` makes its model (standardisation
folded into the first layer, so its weights reach the hundreds), with a digit's 64 pixels as
its inputs, in the page's own state keys (state.js: m, x, y, lr, n, s, f, b).
"""

from __future__ import annotations

import base64
import json
import warnings
import zlib

import numpy as np
import pytest

from byhand import data, modelfile, shortstate
from byhand.cli import main
from byhand.errors import ByhandError
from byhand.network import Network

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from byhand.web.app import create_app

STATE = {
    "m": modelfile.to_dict(Network.create([3, 4, 2], seed=7)),
    "x": [1, 0, 1],
    "y": [1.0, 0.0],
    "lr": 0.5,
    "n": 3,
    "s": "w31",
    "f": 1,
    "d": {"name": "xor", "points": [[0.1, -0.2], [0.3, 0.4]], "labels": [0, 1], "note": None},
}


def weights(state: dict) -> np.ndarray:
    return np.concatenate(
        [np.concatenate([np.ravel(la["weights"]), la["biases"]]) for la in state["m"]["layers"]]
    )


def test_exact_gives_the_state_back_bit_for_bit():
    back = shortstate.decode(shortstate.encode(STATE, "exact"))
    assert back == STATE
    assert json.dumps(back["m"], sort_keys=True) == json.dumps(
        json.loads(json.dumps(STATE["m"])), sort_keys=True
    )


def test_float32_and_shown_keep_what_they_say():
    big = {**STATE, "z": [40000.123456789, 1.0]}
    f32 = shortstate.decode(shortstate.encode(big, "float32"))
    np.testing.assert_array_equal(weights(f32), weights(STATE).astype(np.float32))
    shown = shortstate.decode(shortstate.encode(big, "shown"))
    w, got = weights(STATE), weights(shown)
    assert np.abs(got - w).max() <= 0.5e-4 + 1e-12
    np.testing.assert_allclose(got * 1e4, np.rint(got * 1e4), atol=1e-6)
    assert shown["z"] == big["z"]  # a number of 2¹⁵ or more keeps its array float64
    assert shown["s"] == "w31" and shown["d"]["labels"] == [0, 1] and shown["d"]["note"] is None


@pytest.fixture(scope="module")
def digits_state(tmp_path_factory):
    path = tmp_path_factory.mktemp("digits") / "m.json"
    args = ["train", "--data", "digits", "--layers", "64,30,10", "--epochs", "3", "--out"]
    assert main([*args, str(path), "--json"]) == 0
    ds = data.load("digits")
    model = json.loads(path.read_text())
    return {"m": model, "x": ds.X[0].tolist(), "y": ds.Y[0].tolist(), "lr": 0.5, "n": 0,
            "s": None, "f": 1, "b": 1}  # fmt: skip


def test_a_64_30_10_state_fits_a_link_at_the_pages_precision(digits_state, capsys):
    capsys.readouterr()
    # the page's link today: "#s=" and base64url of JSON.stringify (no spaces), state.js
    text = json.dumps(digits_state, separators=(",", ":"))
    today = len("#s=" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("="))
    sizes = {p: len(shortstate.encode(digits_state, p)) for p in shortstate.PRECISIONS}
    print(f"64-30-10 state: today's link {today}, codes {sizes}")
    assert today > 50_000  # the "60 KB URL"
    assert sizes["shown"] <= shortstate.LINK_CHARS < sizes["float32"] < sizes["exact"]
    back = shortstate.decode(shortstate.encode(digits_state, "shown"))
    assert np.abs(weights(back) - weights(digits_state)).max() <= 0.5e-4 + 1e-12
    # a link keeps the most exact precision that fits: shown for this one, exact for the lecture's
    assert shortstate.for_link(digits_state) == (shortstate.encode(digits_state, "shown"), "shown")
    assert shortstate.for_link(STATE) == (shortstate.encode(STATE, "exact"), "exact")


def test_a_state_too_long_for_any_link_is_coded_exactly_for_a_file():
    rng = np.random.default_rng(0)
    big = {"w": [rng.standard_normal(8).tolist() for _ in range(2000)]}  # 16,000 random numbers
    code, precision = shortstate.for_link(big)
    assert len(code) > shortstate.LINK_CHARS and precision == "exact"
    assert shortstate.decode(code) == big


def _code(payload: bytes) -> str:
    return "b1." + base64.urlsafe_b64encode(zlib.compress(payload)).decode().rstrip("=")


def _payload(head: dict, blob: bytes = b"") -> bytes:
    text = json.dumps(head).encode()
    return len(text).to_bytes(4, "little") + text + blob


HOSTILE = [
    ("", "code: give the text"),
    ("x" * (shortstate.MAX_CODE_CHARS + 1), "code: at most"),
    ("v9.abc", "code: unknown format 'v9'"),
    ("b1.***", "code: not base64url"),
    ("b1." + base64.urlsafe_b64encode(b"not deflated").decode(), "code: not a state byhand"),
    (_code(b"\0" * (shortstate.MAX_STATE_BYTES + 10)), "code: the state inflates to more"),
    ("b1." + base64.urlsafe_b64encode(zlib.compress(b"x" * 100)[:-6]).decode(), "cut short"),
    (_code(_payload({"state": {}, "arrays": []})[:-1]), "code: the state is cut short"),
    (_code(_payload({"state": [], "arrays": []})), "code: holds no state object"),
    (_code(_payload({"state": {"a": {"#": 0}}, "arrays": []})), "refers to packed numbers"),
    (_code(_payload({"state": {}, "arrays": [[[2], "f8"]]}, b"\0" * 16)), "does not use"),
    (_code(_payload({"state": {}, "arrays": [[[2], "f8"]]}, b"\0" * 8)), "is cut short"),
    (_code(_payload({"state": {}, "arrays": [[[-1], "f8"]]})), "not described as byhand"),
    (_code(_payload({"state": {}, "arrays": [[[1], "exec"]]}, b"\0" * 8)), "not described"),
    (_code(_payload({"state": {}, "arrays": []}, b"\0")), "more numbers than its lists"),
    (
        _code(
            _payload({"state": {"a": {"#": 0}}, "arrays": [[[1], "f8"]]}, b"\0" * 6 + b"\xf8\x7f")
        ),
        "holds NaN or infinity",
    ),
    (_code(_payload({"state": {"m": {"layers": []}}, "arrays": []})), "its model (m) is not a"),
    (_code(_payload({"state": json.loads("[" * 40 + "]" * 40), "arrays": []})), "no state"),
    (_code(_payload({"state": {"a": json.loads("[" * 40 + "]" * 40)}, "arrays": []})), "deep"),
]


@pytest.mark.parametrize(("code", "message"), HOSTILE)
def test_a_hostile_code_is_refused_with_a_reason(code, message):
    with pytest.raises(ByhandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        shortstate.decode(code)


def test_the_api_encodes_decodes_and_answers_hostile_codes_with_422():
    client = TestClient(create_app())
    got = client.post("/api/playground/state/encode", json={"state": STATE, "precision": "exact"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["chars"] == len(body["code"]) and body["fits_link"] and body["precision"] == "exact"
    back = client.post("/api/playground/state/decode", json={"code": body["code"]})
    assert back.status_code == 200 and back.json()["state"] == STATE
    for code, message in HOSTILE[2:6]:
        got = client.post("/api/playground/state/decode", json={"code": code})
        assert got.status_code == 422 and message in got.json()["detail"], got.json()
    got = client.post("/api/playground/state/encode", json={"state": STATE, "precision": "half"})
    assert got.status_code == 422 and got.json()["detail"].startswith("precision: must be")
    got = client.post("/api/playground/state/encode", json={"state": {"a": {"#": 1}}})
    assert got.status_code == 422 and "reserved" in got.json()["detail"]
    got = client.post("/api/playground/state/encode", json={"state": STATE, "precision": "link"})
    assert got.json()["code"] == shortstate.encode(STATE, "exact")
    assert got.json()["precision"] == "exact" and got.json()["fits_link"]
