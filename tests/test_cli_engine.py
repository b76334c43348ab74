"""The first CLI commands, run as a user would (in-process through byhand.cli.main)."""

import json
import warnings

import pytest

from byhand import modelfile
from byhand.cli import main


def run(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_forward_json_has_the_lecture_numbers(capsys):
    status, out, _ = run(capsys, "forward", "--json")
    assert status == 0
    data = json.loads(out)
    assert data["pre_activations"][0] == [3.0, 3.0]
    assert data["activations"][0] == [1.0, 0.0, 1.0]
    assert data["output"][0] == pytest.approx(0.9481003475, abs=1e-9)


def test_forward_table(capsys):
    status, out, _ = run(capsys, "forward")
    assert status == 0
    assert "0.9525741" in out and "0.9481003" in out and "colour" in out


def test_backprop_json(capsys):
    status, out, _ = run(capsys, "backprop", "--json", "--lr", "0.5")
    data = json.loads(out)
    assert data["loss"] == pytest.approx(0.4507939214, abs=1e-9)
    assert data["gradients"]["weights"][1][0][0] == pytest.approx(-0.0024326632, abs=1e-9)
    assert data["loss_after"] == pytest.approx(0.4476231649, abs=1e-9)
    assert len(data["deltas"]) == 2
    updated = modelfile.from_dict(data["updated_model"])
    assert updated["w31"] == pytest.approx(1 + 0.5 * 0.0024326632, abs=1e-9)


def test_explain_prints_the_chain_rule(capsys):
    status, out, _ = run(capsys, "explain", "w31")
    assert status == 0
    assert "(o1 − y1) · σ'(z_o1) · h1" in out
    assert "(−0.0518997) · (0.0492061) · (0.9525741) = −0.0024327" in out


def test_negative_inputs_as_users_type_them(capsys):
    a = json.loads(run(capsys, "forward", "--json", "--inputs", "-1,0.5,2")[1])
    b = json.loads(run(capsys, "forward", "--json", "--inputs=-1,0.5,2")[1])
    assert a == b and a["activations"][0] == [-1.0, 0.5, 2.0]


def test_model_file_and_batch(capsys, tmp_path):
    path = tmp_path / "m.json"
    status, _, _ = run(capsys, "backprop", "--out", str(path))
    assert status == 0 and path.exists()
    status, out, _ = run(
        capsys, "forward", "--model", str(path), "--inputs", "1,0,1;0,1,0", "--json"
    )
    assert status == 0
    assert len(json.loads(out)["output"]) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["forward", "--inputs", "1,0"], "expected 3 inputs"),
        (["forward", "--inputs", "1,x,1"], "'x' is not a number"),
        (["forward", "--inputs", "1,nan,1"], "not a finite number"),
        (["forward", "--inputs", "1,inf,1"], "not a finite number"),
        (["backprop", "--target", "1,0,0"], "expected 2 targets"),
        (["backprop", "--lr", "abc"], "abc"),
        (["explain", "w99"], "unknown parameter 'w99'"),
        (["forward", "--model", "/no/such/file.json"], "cannot read model file"),
        (["frobnicate"], "No such command"),
        (["forward", "--inputs", "1e308,1e308,1", "--json"], "overflowed to infinity or NaN"),
        (["forward", "--inputs", "1" + "0" * 400 + ",0,1"], "not a finite number"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, args, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning printed beside the error is a second line
        status, out, err = run(capsys, *args)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_malformed_model_file(capsys, tmp_path):
    path = tmp_path / "m.json"
    path.write_text(
        '{"format": "byhand.network", "version": 1, "layers": [{"activation": "tanh", '
        '"weights": [[1, 2]], "biases": [1]}, {"activation": "relu", '
        '"weights": [[1, 2]], "biases": [0]}]}'
    )
    status, _, err = run(capsys, "forward", "--model", str(path), "--inputs", "1,2")
    assert status == 2
    assert "layers[1].weights" in err and "chain" in err


def test_a_commands_exit_status_reaches_the_shell():
    import click

    from byhand.cli.common import app

    @app.command(name="exit-three", hidden=True)
    @click.pass_context
    def exit_three(ctx):
        ctx.exit(3)

    try:
        assert main(["exit-three"]) == 3
    finally:
        app.commands.pop("exit-three")
