"""Training: the fast step against the plain engine and hand-written optimiser formulas,
divergence and interruption, and accuracy on real data with fixed seeds."""

import numpy as np
import pytest

from byhand import data
from byhand.errors import ByhandError
from byhand.network import Network
from byhand.train import (
    DIVERGENCE_FACTOR,
    Diverged,
    Trainer,
    accuracy,
    confusion_matrix,
    divergence,
    evaluate,
    train,
)


def test_packing_keeps_the_values_and_makes_one_array():
    net = Network.create([3, 4, 2], seed=5)
    before = [p.copy() for p in net.parameters()]
    theta = net.pack()
    assert theta.shape == (net.n_parameters,)
    assert net.pack() is theta
    for p, old in zip(net.parameters(), before, strict=True):
        assert p.base is theta
        np.testing.assert_array_equal(p, old)
    theta -= 1.0  # one operation on θ moves every W and b
    for p, old in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, old - 1.0)


def small_problem(samples=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, 3))
    labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    ds = data.Dataset("toy", "", X, np.eye(2)[labels], ["a", "b", "c"], ["no", "yes"], labels)
    return ds


def reference_epochs(net, ds, epochs, batch, seed, update):
    """Mini-batch training written out with the plain (allocating) engine passes."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(ds))
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            update(net.gradients(ds.X[rows], ds.Y[rows]))


def test_sgd_epochs_equal_gradient_steps_by_hand():
    ds = small_problem()
    net = Network.create([3, 4, 2], seed=3)
    ref = net.copy()
    Trainer_ = Trainer(net, ds, optimizer="sgd", lr=0.7, batch=5, seed=11)
    for _ in range(3):
        Trainer_.epoch()
    reference_epochs(ref, ds, 3, 5, 11, lambda g: ref.step(g, 0.7))
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_momentum_adam_and_l2_follow_their_formulas():
    ds = small_problem()
    for name, lr, l2 in [
        ("momentum", 0.3, 0.0),
        ("adam", 0.01, 0.0),
        ("sgd", 0.5, 0.1),
        ("adam", 0.02, 0.05),
    ]:
        net = Network.create([3, 4, 2], seed=3)
        ref = net.copy()
        t = Trainer(net, ds, optimizer=name, lr=lr, l2=l2, batch=8, seed=2)
        t.epoch()
        t.epoch()
        state = {
            "t": 0,
            "m": [0 * p for p in ref.parameters()],
            "v": [0 * p for p in ref.parameters()],
        }

        def update(g, state=state, ref=ref, name=name, lr=lr, l2=l2):
            state["t"] += 1
            grads = [x for pair in zip(g.grad_W, g.grad_b, strict=True) for x in pair]
            for i, (p, gi) in enumerate(zip(ref.parameters(), grads, strict=True)):
                gi = gi + (l2 * p if i % 2 == 0 else 0)  # L2 on weights (even positions) only
                if name == "sgd":
                    p -= lr * gi
                elif name == "momentum":
                    state["m"][i] = 0.9 * state["m"][i] - lr * gi
                    p += state["m"][i]
                else:
                    state["m"][i] = 0.9 * state["m"][i] + 0.1 * gi
                    state["v"][i] = 0.999 * state["v"][i] + 0.001 * gi**2
                    m_hat = state["m"][i] / (1 - 0.9 ** state["t"])
                    v_hat = state["v"][i] / (1 - 0.999 ** state["t"])
                    p -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)

        reference_epochs(ref, ds, 2, 8, 2, update)
        for a, b in zip(net.parameters(), ref.parameters(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{name} l2={l2}")


def test_history_records_and_metrics():
    ds = small_problem(60)
    train_set, test_set = ds.split(0.25, seed=0)
    net = Network.create([3, 6, 2], seed=0)
    history = train(net, train_set, test_set, epochs=4, lr=2.0)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    last = history[-1]
    assert set(last) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "seconds",
    }
    o = net.predict(test_set.X)
    assert last["test_accuracy"] == pytest.approx(
        np.mean(o.argmax(1) == test_set.labels), abs=1e-15
    )
    assert last["test_loss"] == pytest.approx(
        np.mean(0.5 * np.sum((o - test_set.Y) ** 2, axis=1)), rel=1e-12
    )
    assert accuracy(net, test_set.X, test_set.labels) == last["test_accuracy"]
    C = confusion_matrix(net, test_set.X, test_set.labels)
    assert C.sum() == len(test_set) and np.trace(C) == round(last["test_accuracy"] * len(test_set))


def test_divergence_stops_and_keeps_the_last_good_model():
    ds = small_problem()
    net = Network.create([3, 8, 2], activation="relu", output_activation="identity", seed=0)
    t = Trainer(net, ds, lr=1e5, batch=4)
    before = [p.copy() for p in net.parameters()]
    with pytest.raises(Diverged, match="diverged in epoch 1.*smaller than 100000"):
        t.epoch()
    for a, b in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_keeps_the_last_complete_epoch(monkeypatch):
    ds = small_problem()
    net = Network.create([3, 4, 2], seed=0)
    real_batches = Trainer._batches

    def batches_interrupted_in_epoch_three(self, order, begin, end):
        if self.epochs_done == 2:
            self.net.layers[0].W += 1.0  # half an update done when Ctrl-C arrives
            raise KeyboardInterrupt
        real_batches(self, order, begin, end)

    monkeypatch.setattr(Trainer, "_batches", batches_interrupted_in_epoch_three)
    after = {}

    def keep(record):
        after[record["epoch"]] = [p.copy() for p in net.parameters()]

    history = train(net, ds, epochs=5, callback=keep, lr=1.0)
    assert len(history) == 2
    for a, b in zip(net.parameters(), after[2], strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_callback_can_stop_training():
    net = Network.create([3, 4, 2], seed=0)
    history = train(net, small_problem(), epochs=10, callback=lambda r: r["epoch"] < 3)
    assert len(history) == 3


@pytest.mark.parametrize(
    "options, message",
    [
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'"),
        ({"lr": -1}, "learning rate must be"),
        ({"lr": float("nan")}, "learning rate must be"),
        ({"batch": 0}, "batch size must be"),
        ({"batch": 2.5}, "batch size must be a whole number"),
        ({"l2": -0.1}, "L2 strength"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(ByhandError, match=message):
        Trainer(Network.create([3, 4, 2]), small_problem(), **options)


def test_data_must_fit_the_network():
    with pytest.raises(ByhandError, match="network takes 4 inputs but the training data has 3"):
        Trainer(Network.create([4, 2]), small_problem())
    with pytest.raises(ByhandError, match="3 outputs but the training data has 2"):
        Trainer(Network.create([3, 3]), small_problem())


def test_regression_learns_a_line():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    Y = (2 * X[:, 0] - X[:, 1] + 0.5)[:, None]
    ds = data.Dataset("line", "", X, Y, ["x1", "x2"], None, None)
    net = Network.create([2, 1], activation="identity", loss="mse", seed=0)
    history = train(net, ds, epochs=40, lr=0.1, batch=10)
    assert history[-1]["train_accuracy"] is None
    # a linear layer can fit the line exactly: least squares is the reference
    np.testing.assert_allclose(net.layers[0].W, [[2.0, -1.0]], atol=1e-6)
    assert net.layers[0].b[0] == pytest.approx(0.5, abs=1e-6)


def mean_test_accuracy(name, sizes, splits=(0, 1, 2), epochs=30, standardise=True, **options):
    """Test accuracy averaged over three fixed, seeded 80/20 splits (one split of a small
    data set moves the score by a few samples)."""
    net_options = {
        k: options.pop(k)
        for k in ("activation", "output_activation", "loss", "dtype")
        if k in options
    }
    scores = []
    for split in splits:
        tr, te = data.load(name).split(0.2, seed=split)
        if standardise:
            tr = tr.standardised()
            te = te.standardised(tr.mean, tr.std)
        net = Network.create(sizes, seed=0, **net_options)
        scores.append(train(net, tr, te, epochs=epochs, **options)[-1]["test_accuracy"])
    return float(np.mean(scores))


def test_fruit_accuracy():
    assert mean_test_accuracy("fruit", [3, 10, 2]) >= 0.97


def test_iris_accuracy():
    assert mean_test_accuracy("iris", [4, 10, 3], epochs=60) >= 0.93


def test_digits_with_the_lectures_network():
    # 64-30-10 sigmoid, half_sse, sgd, η = 3, batch 10, 30 epochs, 20% test
    assert mean_test_accuracy("digits", [64, 30, 10], lr=3.0, batch=10) >= 0.96


def test_digits_float32_learns_as_well():
    assert mean_test_accuracy("digits", [64, 30, 10], splits=(0,), dtype="float32") >= 0.95


def test_digits_softmax_cross_entropy_adam():
    acc = mean_test_accuracy(
        "digits",
        [64, 100, 10],
        output_activation="softmax",
        loss="cross_entropy",
        optimizer="adam",
        lr=0.002,
    )
    assert acc >= 0.97


@pytest.mark.parametrize(
    "name, sizes, epochs",
    [("xor", [2, 8, 2], 50), ("circles", [2, 8, 2], 50), ("spiral", [2, 32, 32, 2], 100)],
)
def test_two_dimensional_sets(name, sizes, epochs):
    acc = mean_test_accuracy(
        name,
        sizes,
        epochs=epochs,
        activation="tanh",
        output_activation="softmax",
        loss="cross_entropy",
        optimizer="adam",
        lr=0.02,
    )
    assert acc >= 0.95


def test_training_moves_the_arrays_a_user_holds():
    ds = small_problem()
    net = Network.create([3, 4, 2], seed=0)
    W = net.layers[0].W  # a reference taken before training sees the training
    before = W.copy()
    Trainer(net, ds, lr=0.5).epoch()
    assert W is net.layers[0].W and not np.array_equal(W, before)


def test_a_replaced_weight_matrix_is_trained_too():
    ds = small_problem()
    net = Network.create([3, 4, 2], seed=0)
    trainer = Trainer(net, ds, lr=0.5)
    trainer.epoch()
    net.layers[0].W = np.zeros((4, 3))
    trainer.epoch()
    assert np.abs(net.layers[0].W).sum() > 0


@pytest.mark.parametrize("order", [[0.5, 1.0], [True] * 24, ["abc"], [[0, 1]], [0, 24], [-1, 0]])
def test_a_sample_order_must_be_row_numbers(order):
    trainer = Trainer(Network.create([3, 4, 2], seed=0), small_problem(), lr=0.5)
    with pytest.raises(ByhandError, match="row numbers from 0 to 23"):
        trainer.steps(order)


def test_a_divergence_with_l2_suggests_a_smaller_l2_too():
    # each step multiplies W by 1 − ηλ = −29999: the weights overflow within 100 epochs
    trainer = Trainer(Network.create([3, 4, 2], seed=0), small_problem(), l2=1e4)
    with pytest.raises(Diverged, match="smaller than 3 or an L2 strength smaller than 10000"):
        for _ in range(100):
            trainer.epoch()


def test_the_default_rate_follows_the_output_layer():
    ds = small_problem()
    classifier = Network.create([3, 4, 2], seed=0)
    numbers = Network.create([3, 4, 2], output_activation="identity", seed=0)
    assert Trainer(classifier, ds).lr == 3.0
    assert Trainer(numbers, ds).lr == 0.1
    assert Trainer(numbers, ds, optimizer="momentum").lr == 0.03
    assert Trainer(numbers, ds, optimizer="adam").lr == Trainer(classifier, ds, optimizer="adam").lr
    assert Trainer(numbers, ds, lr=0.5).lr == 0.5  # a rate given is kept


def test_a_loss_that_blows_up_is_divergence_even_while_finite():
    # b = 2a with a up to 10 and the sgd default η = 3: the loss passes 1e13 in epoch 1,
    # still a finite number; it must stop training and put the first parameters back
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 10, 200)
    ds = data.Dataset("line", "", a[:, None], 2 * a[:, None], ["a"], None, None)
    net = Network.create([1, 30, 1], output_activation="identity", init="xavier", seed=0)
    before = [p.copy() for p in net.parameters()]
    t = Trainer(net, ds, lr=3.0)
    start = float(np.mean(0.5 * (net.predict(ds.X) - ds.Y) ** 2))
    assert t.start_loss == pytest.approx(start, rel=1e-12)
    with pytest.raises(Diverged, match=r"diverged in epoch 1: the loss grew from .*smaller than 3"):
        t.epoch()
    for p, b in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, b)


def test_divergence_rule():
    assert divergence(float("nan"), 1.0) == "the loss became NaN or infinite"
    assert divergence(float("inf"), 1.0) == "the loss became NaN or infinite"
    # above DIVERGENCE_FACTOR × max(start, 1) only
    assert divergence(0.99 * DIVERGENCE_FACTOR * 5.0, 5.0) is None
    assert divergence(1.01 * DIVERGENCE_FACTOR * 5.0, 5.0) is not None
    assert divergence(0.99 * DIVERGENCE_FACTOR, 1e-9) is None
    assert divergence(1.01 * DIVERGENCE_FACTOR, 1e-9) is not None


def test_chunks_of_steps_train_exactly_as_epochs_do():
    # 24 samples in batches of 5: 5 steps a pass; chunks of 3 steps cross the passes' ends
    ds, test = small_problem(), small_problem(10, seed=1)
    by_epoch, by_chunk = Network.create([3, 4, 2], seed=3), Network.create([3, 4, 2], seed=3)
    epochs = Trainer(by_epoch, ds, test, lr=0.7, batch=5, seed=11)
    chunks = Trainer(by_chunk, ds, test, lr=0.7, batch=5, seed=11)
    assert chunks.steps_per_epoch == 5
    for _ in range(3):
        epochs.epoch()
    progress = [chunks.advance(3) for _ in range(5)]
    assert [(p.steps, p.epochs) for p in progress] == [(3, 0), (6, 1), (9, 1), (12, 2), (15, 3)]
    for a, b in zip(by_epoch.parameters(), by_chunk.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    last = progress[-1]
    # the measured numbers are evaluate()'s on the network as it is after the chunk
    assert last.diverged is None
    assert (last.train_loss, last.train_accuracy) == evaluate(by_chunk, ds.X, ds.Y, ds.labels)
    assert (last.test_loss, last.test_accuracy) == evaluate(by_chunk, test.X, test.Y, test.labels)
    # advance() without a count finishes the pass in hand: one epoch from a pass's start
    assert (chunks.advance(2).steps, chunks.advance().steps, chunks.epochs_done) == (17, 20, 4)


def test_a_chunk_that_diverges_reports_it_and_keeps_the_last_good_chunk():
    ds = small_problem()
    net = Network.create([3, 8, 2], activation="relu", output_activation="identity", seed=0)
    t = Trainer(net, ds, lr=1e-3, batch=4)
    good = t.advance(2)
    assert good.diverged is None
    kept = [p.copy() for p in net.parameters()]
    t.optimizer.lr = t.optimizer.scale = 1e5  # the rate a user mistyped, from here on
    bad = t.advance(4)
    assert bad.diverged is not None and "training diverged by step 6" in bad.diverged
    # the network, and the counts, are the last good chunk's; so are the numbers reported
    assert (bad.steps, bad.epochs) == (good.steps, good.epochs) == (2, 0)
    for a, b in zip(net.parameters(), kept, strict=True):
        np.testing.assert_array_equal(a, b)
    assert bad.train_loss == good.train_loss
    assert bad.to_dict()["diverged"] == bad.diverged


@pytest.mark.parametrize("steps", [0, -1, 2.5, "many"])
def test_a_chunk_needs_a_whole_number_of_steps(steps):
    trainer = Trainer(Network.create([3, 4, 2], seed=0), small_problem(), lr=0.5)
    with pytest.raises(ByhandError, match="the number of steps must be"):
        trainer.advance(steps)
