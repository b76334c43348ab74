"""Data sets: shapes and one-hot targets, seeded synthetic sets against their geometry, the
scikit-learn sets against scikit-learn, stratified splits, standardisation, CSV parsing."""

import math

import numpy as np
import pytest
from sklearn import datasets as sk

from byhand import data
from byhand.data import sets
from byhand.errors import ByhandError
from byhand.network import Network


@pytest.mark.parametrize("name", list(data.DATASETS))
def test_every_data_set_is_consistent(name):
    ds = data.load(name)
    assert ds.description == data.DATASETS[name]
    assert ds.X.dtype == np.float64 and np.all(np.isfinite(ds.X))
    assert len(ds.feature_names) == ds.X.shape[1]
    # one-hot rows: a single 1 per row, at the sample's label
    np.testing.assert_array_equal(ds.Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(ds.Y, axis=1), ds.labels)
    assert ds.Y.shape[1] == len(ds.class_names)
    # every class is present
    assert set(ds.labels.tolist()) == set(range(len(ds.class_names)))


@pytest.mark.parametrize(
    "name, loader",
    [("iris", sk.load_iris), ("wine", sk.load_wine), ("breast_cancer", sk.load_breast_cancer)],
)
def test_bundled_sets_are_scikit_learns(name, loader):
    ds, ref = data.load(name), loader()
    np.testing.assert_array_equal(ds.X, ref.data)
    np.testing.assert_array_equal(ds.labels, ref.target)
    assert ds.class_names == [str(c) for c in ref.target_names]


def test_digits_are_scaled_to_unit_range():
    ds, ref = data.load("digits"), sk.load_digits()
    np.testing.assert_array_equal(ds.X * 16, ref.data)
    assert ds.X.shape == (1797, 64) and ds.X.max() == 1.0
    # read from the file without importing scikit-learn, yet exactly load_digits' set
    assert sets._bundled_digits() is not None
    np.testing.assert_array_equal(ds.labels, ref.target)
    assert ds.feature_names == ref.feature_names
    assert ds.class_names == [str(c) for c in ref.target_names]


def test_synthetic_sets_are_seeded():
    a, b, c = data.load("spiral", seed=3), data.load("spiral", seed=3), data.load("spiral", seed=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    assert data.load("circles", samples=50).n_samples == 50


def test_noiseless_geometry():
    circles = data.load("circles", noise=0.0, samples=200)
    radius = np.hypot(circles.X[:, 0], circles.X[:, 1])
    np.testing.assert_allclose(radius, np.where(circles.labels == 0, 1.0, 0.5), atol=1e-12)
    xor = data.load("xor", noise=0.0)
    np.testing.assert_array_equal(xor.X[:, 0] * xor.X[:, 1] > 0, xor.labels == 1)
    assert np.min(np.abs(xor.X)) >= 0.1
    spiral = data.load("spiral", noise=0.0)
    r = np.hypot(spiral.X[:, 0], spiral.X[:, 1])
    # on arm k the angle is 2.5π r + kπ
    angle = 2.5 * np.pi * r + np.pi * spiral.labels
    np.testing.assert_allclose(
        spiral.X, r[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]), atol=1e-12
    )


def test_fruit_follows_its_documented_distributions():
    ds = data.load("fruit", samples=20_000, seed=1)
    for k, spec in enumerate(data.FRUIT.values()):
        rows = ds.X[ds.labels == k]
        for j, (mean, sd) in enumerate(spec):
            # within 4 standard errors of the documented mean (colour is clipped to [0, 1]: looser)
            tol = 4 * sd / math.sqrt(len(rows)) + (0.01 if j == 0 else 0)
            assert abs(rows[:, j].mean() - mean) < tol
    # the Bayes classifier for the documented Gaussians: overlap makes it good, not perfect
    scores = [
        sum(((ds.X[:, j] - m) / s) ** 2 for j, (m, s) in enumerate(spec))
        for spec in data.FRUIT.values()
    ]
    bayes = np.mean(np.argmin(scores, axis=0) == ds.labels)
    assert 0.97 < bayes < 0.995


def test_split_is_stratified_disjoint_and_seeded():
    ds = data.load("iris")
    train, test = ds.split(0.2, seed=5)
    assert len(train) == 120 and len(test) == 30
    assert np.bincount(test.labels).tolist() == [10, 10, 10]
    rows = {tuple(r) for r in np.column_stack([train.X, train.labels])} | {
        tuple(r) for r in np.column_stack([test.X, test.labels])
    }
    assert len(rows) == len({tuple(r) for r in np.column_stack([ds.X, ds.labels])})
    again, _ = ds.split(0.2, seed=5)
    np.testing.assert_array_equal(again.X, train.X)
    with pytest.raises(ByhandError, match="between 0 and 1"):
        ds.split(1.5)


def test_standardised_uses_the_training_statistics():
    train, test = data.load("wine").split(0.25, seed=0)
    s = train.standardised()
    np.testing.assert_allclose(s.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(s.X.std(axis=0), 1.0, atol=1e-12)
    t = test.standardised(s.mean, s.std)
    np.testing.assert_allclose(t.X, (test.X - train.X.mean(axis=0)) / train.X.std(axis=0))
    flat = data.Dataset(
        "c", "", np.array([[1.0, 2.0], [1.0, 4.0]]), np.eye(2), ["a", "b"], ["x", "y"], np.arange(2)
    )
    np.testing.assert_array_equal(flat.standardised().X, [[0.0, -1.0], [0.0, 1.0]])


def test_folded_standardisation_gives_the_same_outputs_on_raw_inputs():
    ds = data.load("wine")
    s = ds.standardised()
    net = Network.create([13, 5, 3], seed=2)
    folded = data.fold_standardisation(net, s.mean, s.std)
    np.testing.assert_allclose(folded.predict(ds.X), net.predict(s.X), rtol=1e-12, atol=1e-14)


CSV = "colour,weight,kind\n0.8,150,apple\n0.2,110,lemon\n0.7,160,apple\n"


def test_csv_classification_from_path_and_bytes(tmp_path):
    path = tmp_path / "fruit.csv"
    path.write_text(CSV)
    a = data.from_csv(path, "kind")
    b = data.from_csv(CSV.encode(), "kind")
    for ds in (a, b):
        assert ds.feature_names == ["colour", "weight"]
        assert ds.class_names == ["apple", "lemon"]
        np.testing.assert_array_equal(ds.X, [[0.8, 150], [0.2, 110], [0.7, 160]])
        np.testing.assert_array_equal(ds.Y, [[1, 0], [0, 1], [1, 0]])


def test_csv_numeric_targets():
    reg = data.from_csv(b"x;y\n1;2.5\n2;3.5\n3;4.75\n", "y")
    assert reg.class_names is None and reg.labels is None
    np.testing.assert_array_equal(reg.Y, [[2.5], [3.5], [4.75]])
    cls = data.from_csv(b"x,y\n1,0\n2,1\n3,1\n", "y")
    assert cls.class_names == ["0", "1"]
    forced = data.from_csv(b"x,y\n1,0\n2,1\n3,1\n", "y", task="regression")
    assert forced.labels is None


@pytest.mark.parametrize(
    "text, message",
    [
        (b"", "empty"),
        (b"a,b,c\n1,2,x\n", "no column 'kind'; its columns are: a, b, c"),
        (b"a,kind\n1,x\n2\n", "line 3: 1 values but the header has 2 columns"),
        (b"a,b,kind\n1,,x\n", "line 2, column 'b': missing value"),
        (b"a,b,kind\n1,2,x\n3,heavy,y\n", "line 3, column 'b': 'heavy' is not a number"),
        (b"a,b,kind\n1,inf,x\n", "line 2, column 'b': inf is not a finite number"),
        (b"a,kind\n", "no data rows"),
        (b"a,a,kind\n1,2,x\n", "appears twice"),
    ],
)
def test_csv_errors_name_the_line_and_column(text, message):
    with pytest.raises(ByhandError, match=message):
        data.from_csv(text, "kind")


def test_read_features_finds_the_models_columns():
    X, used = data.read_features(b"weight,colour,extra\n150,0.8,9\n", ["colour", "weight"], 2)
    np.testing.assert_array_equal(X, [[0.8, 150]])
    assert used == ["colour", "weight"]
    with pytest.raises(ByhandError, match="the model takes 2 inputs"):
        data.read_features(b"a,b,c\n1,2,3\n", ["x", "y"], 2)


def test_unknown_names_and_absurd_sizes_are_refused():
    with pytest.raises(ByhandError, match="unknown data set 'mnist'"):
        data.load("mnist")
    with pytest.raises(ByhandError, match="samples must be"):
        data.load("xor", samples=10**9)
    with pytest.raises(ByhandError, match="noise must be"):
        data.load("xor", noise=float("nan"))
    with pytest.raises(ByhandError, match="fixed data set"):
        data.load("iris", samples=10)


def test_prepare_splits_then_scales_with_the_training_part_alone():
    ds = data.load("wine")
    p = data.prepare(ds, 0.25, seed=3)
    train, test = ds.split(0.25, 3)
    mu, sd = train.X.mean(axis=0), train.X.std(axis=0)
    np.testing.assert_allclose(p.mean, mu, rtol=1e-13)
    np.testing.assert_allclose(p.std, sd, rtol=1e-13)
    np.testing.assert_allclose(p.train.X, (train.X - mu) / sd, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.test.X, (test.X - mu) / sd, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(p.test.labels, test.labels)
    # the raw-input model gives on raw rows what the trained one gives on scaled rows
    net = Network.create([13, 5, 3], activation="tanh", seed=1)
    np.testing.assert_allclose(
        p.raw_model(net).predict(test.X), net.predict(p.test.X), rtol=1e-10, atol=1e-12
    )
    # no split, no scaling: the data as it is, and the model as it is
    q = data.prepare(ds, 0, standardise=False)
    assert q.test is None and q.mean is None and q.train is ds and q.raw_model(net) is net
    with pytest.raises(ByhandError, match="from 0 up to 1"):
        data.prepare(ds, 1.0)


def test_a_scaled_numeric_target_is_folded_back_into_the_output_layer():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 2)) * [3.0, 40.0] + [1.0, 500.0]
    y = 340_000 + 40_000 * X[:, :1] / 3 + rng.normal(size=(50, 1))
    ds = data.Dataset("prices", "", X, y, ["a", "b"], None, None)
    p = data.prepare(ds, 0.2, seed=1, scale_target=True)
    train, test = ds.split(0.2, 1)
    mu, sd = train.Y.mean(), train.Y.std()
    np.testing.assert_allclose(p.train.Y, (train.Y - mu) / sd, rtol=1e-12)
    np.testing.assert_allclose(p.test.Y, (test.Y - mu) / sd, rtol=1e-12)
    # the raw model gives raw prices on raw rows: s·o' + μ of the trained (scaled) network
    net = Network.create([2, 4, 1], output_activation="identity", seed=2)
    raw = p.raw_model(net)
    np.testing.assert_allclose(raw.predict(test.X), sd * net.predict(p.test.X) + mu, rtol=1e-12)
    # and a loss on the scaled target, s² times over, is the raw model's loss on raw targets
    scaled_loss = net.loss_of(p.test.X, p.test.Y)
    record = p.in_target_units({"train_loss": None, "test_loss": scaled_loss, "epoch": 1})
    assert record["test_loss"] == pytest.approx(raw.loss_of(test.X, test.Y), rel=1e-10)
    assert record["epoch"] == 1 and record["train_loss"] is None
    with pytest.raises(ByhandError, match="single numeric target"):
        data.prepare(data.load("iris"), scale_target=True)
    with pytest.raises(ByhandError, match="identity output layer"):
        p.raw_model(Network.create([2, 4, 1], seed=2))
