"""`byhand train`, `predict`, `evaluate` run as a user would (in-process through byhand.cli.main)."""

import json

import numpy as np
import pytest

from byhand import data, modelfile
from byhand.cli import main


def run(capsys, *args):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_train_json_then_predict_and_evaluate(capsys, tmp_path):
    model, plot = tmp_path / "xor.json", tmp_path / "xor.png"
    status, out, err = run(
        capsys, "train", "--data", "xor", "--layers", "2,8,2", "--activation", "tanh",
        "--loss", "cross_entropy", "--optimizer", "adam", "--lr", "0.02", "--epochs", "20",
        "--out", model, "--plot", plot, "--json",
    )  # fmt: skip
    assert status == 0, err
    result = json.loads(out)
    assert len(result["history"]) == 20 and result["seconds"] > 0
    assert result["test_accuracy"] == result["history"][-1]["test_accuracy"] >= 0.9
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the saved model takes raw inputs (standardisation folded in): check it by hand
    net = modelfile.load(model)
    ds = data.load("xor")
    W1, b1, W2, b2 = (np.array(p) for p in net.parameters())
    h = np.tanh(ds.X @ W1.T + b1)
    z = h @ W2.T + b2
    predicted = np.argmax(z, axis=1)  # softmax keeps the order of z
    by_hand = float(np.mean(predicted == ds.labels))

    status, out, _ = run(capsys, "evaluate", "--model", model, "--data", "xor", "--json")
    evaluated = json.loads(out)
    assert status == 0
    assert evaluated["accuracy"] == pytest.approx(by_hand, abs=1e-12)
    assert np.trace(evaluated["confusion_matrix"]) == round(by_hand * len(ds))
    # train and test together make the whole set
    n_test = round(0.2 * len(ds))
    mixed = (
        result["train_accuracy"] * (len(ds) - n_test) + result["test_accuracy"] * n_test
    ) / len(ds)
    assert evaluated["accuracy"] == pytest.approx(mixed, abs=1.5 / len(ds))

    status, out, _ = run(
        capsys, "predict", "--model", model, "--inputs", "0.5,0.5;0.5,-0.5", "--json"
    )
    answer = json.loads(out)
    assert status == 0 and answer["predicted"] == ["x1·x2 > 0", "x1·x2 < 0"]
    np.testing.assert_allclose(np.sum(answer["outputs"], axis=1), 1.0, rtol=1e-12)


def test_train_table_is_quiet_when_not_a_terminal(capsys):
    status, out, _ = run(capsys, "train", "--data", "fruit", "--epochs", "3")
    assert status == 0
    assert "\r" not in out and "epoch" not in out.split("\n")[0]
    assert "accuracy" in out and "confusion matrix (test set)" in out and "fruit A" in out


def test_csv_training_and_prediction(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    rows = ["a,b,kind"] + [f"{x:.4f},{y:.4f},{'up' if x + y > 0 else 'down'}" for x, y in X]
    csv = tmp_path / "points.csv"
    csv.write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.json"
    status, out, err = run(
        capsys,
        "train",
        "--data",
        csv,
        "--target",
        "kind",
        "--epochs",
        "30",
        "--out",
        model,
        "--json",
    )
    assert status == 0, err
    assert json.loads(out)["classes"] == ["down", "up"]
    new = tmp_path / "new.csv"
    new.write_text("b,a\n2,2\n-2,-2\n")  # columns in another order: found by name
    status, out, _ = run(capsys, "predict", "--model", model, "--data", new, "--json")
    assert status == 0 and json.loads(out)["predicted"] == ["up", "down"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--data", "digits", "--layers", "64,30,9"],
            "--layers ends with 9 outputs but digits has 10 classes",
        ),
        (
            ["--data", "digits", "--layers", "60,30,10"],
            "--layers starts with 60 inputs but digits has 64 features",
        ),
        (["--data", "mnist"], "unknown data set 'mnist'"),
        (["--data", "iris", "--layers", "4,,3"], "give whole numbers separated by commas"),
        (["--data", "iris", "--out", "/no/such/folder/m.json"], "there is no folder /no/such"),
        (["--data", "iris", "--plot", "curves.txt"], "name it with one of .png, .svg, .pdf"),
        (["--data", "iris", "--target", "x"], "--target applies to CSV files"),
        (["--data", "iris", "--test-split", "1.5"], "--test-split"),
        (["--data", "iris", "--lr", "-3"], "learning rate must be"),
        (
            [
                "--data",
                "iris",
                "--activation",
                "relu",
                "--lr",
                "1e5",
                "--output-activation",
                "identity",
            ],
            "diverged in epoch",
        ),
    ],
)
def test_bad_training_requests_are_one_line(capsys, args, message):
    status, out, err = run(capsys, "train", *args)
    assert status == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_file_that_cannot_be_written_is_refused_before_training(capsys, tmp_path, monkeypatch):
    def never(self):
        raise AssertionError("trained before checking where to write")

    monkeypatch.setattr("byhand.train.Trainer.epoch", never)
    for option, name in (("--out", "m.json"), ("--plot", "p.png")):
        target = tmp_path / "missing" / name
        status, _, err = run(capsys, "train", "--data", "iris", option, target)
        assert status == 2 and "there is no folder" in err, err
    status, _, err = run(capsys, "train", "--data", "iris", "--out", tmp_path)
    assert status == 2 and "it is a folder" in err, err


def test_ctrl_c_keeps_the_last_epoch_and_exits_130(capsys, tmp_path, monkeypatch):
    from byhand.train import Trainer

    epoch = Trainer.epoch

    def interrupted_in_the_third(self):
        if self.epochs_done == 2:
            raise KeyboardInterrupt
        return epoch(self)

    monkeypatch.setattr(Trainer, "epoch", interrupted_in_the_third)
    model = tmp_path / "m.json"
    status, out, err = run(capsys, "train", "--data", "iris", "--out", model, "--json")
    assert status == 130, err
    assert json.loads(out)["stopped"].startswith("stopped by Ctrl-C after epoch 2")
    assert modelfile.load(model).sizes == [4, 30, 3]

    monkeypatch.setattr(Trainer, "epoch", lambda self: (_ for _ in ()).throw(KeyboardInterrupt))
    model.unlink()
    status, out, err = run(capsys, "train", "--data", "iris", "--out", model)
    assert status == 130 and "before the first epoch ended; no model saved" in err
    assert not model.exists()


def test_prices_in_the_hundred_thousands_train_with_the_defaults(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    price = 340_000 + 40_000 * X[:, 0] - 15_000 * X[:, 1] + 500 * rng.normal(size=300)
    csv = tmp_path / "prices.csv"
    rows = "".join(f"{a},{b},{p}\n" for (a, b), p in zip(X, price, strict=True))
    csv.write_text("a,b,price\n" + rows)
    model = tmp_path / "m.json"
    status, out, err = run(
        capsys, "train", "--data", csv, "--target", "price", "--out", model, "--json"
    )
    assert status == 0, err
    result = json.loads(out)
    # far below always guessing the mean (½ var ≈ 9e8), in the price's own units
    assert result["test_loss"] < 0.02 * 0.5 * price.var()
    status, out, err = run(
        capsys, "evaluate", "--model", model, "--data", csv, "--target", "price",
        "--part", "test", "--json",
    )  # fmt: skip
    assert status == 0, err
    assert json.loads(out)["loss"] == pytest.approx(result["test_loss"], rel=1e-9)


def test_one_class_evaluates_but_does_not_train(capsys, tmp_path):
    two = tmp_path / "two.csv"
    rows = [(i, (i * 7) % 5, "apple" if i % 2 else "pear") for i in range(20)]
    two.write_text("a,b,kind\n" + "".join(f"{a},{b},{k}\n" for a, b, k in rows))
    one = tmp_path / "apples.csv"
    one.write_text("a,b,kind\n" + "".join(f"{a},{b},{k}\n" for a, b, k in rows if k == "apple"))
    model = tmp_path / "m.json"
    status, _, err = run(capsys, "train", "--data", two, "--target", "kind", "--out", model)
    assert status == 0, err
    status, out, err = run(
        capsys, "evaluate", "--model", model, "--data", one, "--target", "kind", "--json"
    )
    assert status == 0, err
    result = json.loads(out)
    assert result["samples"] == 10 and result["classes"] == ["apple", "pear"]
    status, _, err = run(capsys, "train", "--data", one, "--target", "kind")
    assert status == 2 and "every sample is of the class 'apple'" in err


def test_classes_of_one_sample_each_suggest_regression(capsys, tmp_path):
    csv = tmp_path / "numbers.csv"
    csv.write_text("a,y\n" + "".join(f"{i},{i * 0.37:.3f}\n" for i in range(50)))
    status, _, err = run(
        capsys, "train", "--data", csv, "--target", "y", "--task", "classification"
    )
    assert status == 2 and "choose the regression task" in err, err


def test_csv_errors_reach_the_user(capsys, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b,kind\n1,2,x\n3,,y\n")
    status, _, err = run(capsys, "train", "--data", csv, "--target", "kind")
    assert status == 2 and "line 3, column 'b': missing value" in err
    status, _, err = run(capsys, "train", "--data", csv)
    assert status == 2 and "--target" in err


def test_a_blown_up_regression_stops_with_divergence_and_saves_nothing(capsys, tmp_path):
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 10, 200)
    csv = tmp_path / "reg.csv"
    csv.write_text("a,b\n" + "".join(f"{x:.6f},{2 * x:.6f}\n" for x in a))
    model = tmp_path / "m.json"
    # the classifiers' η = 3 on a numeric target overshoots at once
    status, out, err = run(
        capsys, "train", "--data", csv, "--target", "b", "--lr", "3", "--out", model
    )
    assert status == 2 and "diverged in epoch 1: the loss grew from" in err, err
    assert "try a learning rate smaller than 3" in err and err.count("\n") == 1
    assert not model.exists()
    # the default for a numeric target (an identity output: sgd η = 0.1) trains, and the saved
    # model predicts b = 2a from raw a
    status, out, err = run(
        capsys, "train", "--data", csv, "--target", "b", "--epochs", "60", "--out", model, "--json"
    )
    assert status == 0, err
    o = modelfile.load(model).predict([[2.0], [5.0], [8.0]])[:, 0]
    np.testing.assert_allclose(o, [4.0, 10.0, 16.0], atol=0.5)


@pytest.mark.parametrize(
    "layers, message",
    [
        ("64,100000,10", "a hidden layer may have at most 1024 neurons, not 100000"),
        ("64," + "1024," * 11 + "10", "weights and biases, more than the 10,000,000"),
        ("64,0,10", "widths of 1 or more"),
    ],
)
def test_absurd_layer_sizes_are_refused_up_front(capsys, layers, message):
    status, _, err = run(capsys, "train", "--data", "digits", "--layers", layers)
    assert status == 2 and message in err and err.count("\n") == 1, err


def test_losses_too_big_or_small_for_four_decimals_use_powers_of_ten():
    from byhand.cli.train import _loss

    # the engine's form (byhand.numbers): the progress lines wrote 4.8137e+59 and 3.2000e-07
    assert _loss(4.8137e59) == "4.8137 × 10⁵⁹"
    assert _loss(3.2e-7) == "3.2 × 10⁻⁷"
    assert _loss(-2.5e6) == "−2500000"
    assert _loss(0.12345) == "0.1235" and _loss(0.0) == "0" and _loss(12345.6) == "12345.6000"
    assert _loss(None) == "—"


def test_evaluate_on_the_held_out_part_matches_training(capsys, tmp_path):
    model = tmp_path / "fruit.json"
    status, out, err = run(
        capsys, "train", "--data", "fruit", "--layers", "3,5,2", "--epochs", "5", "--seed", "3",
        "--out", model, "--json",
    )  # fmt: skip
    assert status == 0, err
    trained = json.loads(out)
    last = trained["history"][-1]
    for part, loss, accuracy, samples in [
        ("test", last["test_loss"], trained["test_accuracy"], 100),
        ("train", last["train_loss"], trained["train_accuracy"], 400),
    ]:
        status, out, err = run(
            capsys, "evaluate", "--model", model, "--data", "fruit", "--part", part,
            "--seed", "3", "--json",
        )  # fmt: skip
        assert status == 0, err
        result = json.loads(out)
        assert result["samples"] == samples and result["part"] == part
        assert result["accuracy"] == pytest.approx(accuracy, abs=1e-12)
        assert result["loss"] == pytest.approx(loss, rel=1e-9)
    status, out, _ = run(capsys, "evaluate", "--model", model, "--data", "fruit", "--json")
    assert json.loads(out)["samples"] == 500


def test_the_train_report_is_the_text_rich_printed_into_a_pipe(capsys):
    # the report is drawn without rich now (byhand.cli.tables); rich, given the same tables,
    # prints the same characters into a file: the summary (no title) and the confusion matrix
    import io

    from rich.console import Console
    from rich.table import Table

    status, out, err = run(capsys, "train", "--data", "iris", "--epochs", "3")
    assert status == 0, err
    lines = out.splitlines(keepends=True)
    header, summary = lines[0], "".join(lines[1:7])
    assert header.startswith("iris: 4-30-3 sigmoid/sigmoid, half_sse, SGD(lr=3), batch 10")
    cells = [line.split("│")[1:-1] for line in summary.splitlines() if line.startswith("│")]
    t = Table()
    for c, name in enumerate(("", "loss", "accuracy", "samples")):
        t.add_column(name, justify="left" if c == 0 else "right")
    for row in cells:
        t.add_row(*(cell.strip() for cell in row))
    printed = io.StringIO()
    Console(file=printed, width=200, highlight=False).print(t)
    assert summary == printed.getvalue()
    assert "confusion matrix (test set)" in out and "true ↓ / predicted →" in out
