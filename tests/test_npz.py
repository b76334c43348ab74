"""The .npz model file: exact round trips, plain-NumPy readability, and one clear error per fault."""

import io
import pathlib
import zipfile

import numpy as np
import pytest

import byhand
from byhand import modelfile
from byhand.cli import main
from byhand.errors import ModelFileError


def _same(a: byhand.Network, b: byhand.Network) -> None:
    assert a.sizes == b.sizes and a.loss is b.loss
    assert a.input_names == b.input_names and a.output_names == b.output_names
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert la.W.dtype == lb.W.dtype and la.b.dtype == lb.b.dtype
        np.testing.assert_array_equal(la.W, lb.W)
        np.testing.assert_array_equal(la.b, lb.b)
        assert la.activation is lb.activation


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_exact_and_keeps_the_dtype(tmp_path, dtype):
    net = byhand.Network.create(
        [6, 9, 4, 3],
        activation="leaky_relu",
        output_activation="softmax",
        loss="cross_entropy",
        seed=11,
        dtype=dtype,
        output_names=["a", "b", "ç"],
    )
    path = tmp_path / "m.npz"
    modelfile.save(net, path)
    back = modelfile.load(path)
    _same(net, back)
    x = np.random.default_rng(0).normal(size=(5, 6))
    np.testing.assert_array_equal(net.predict(x), back.predict(x))
    assert modelfile.load(path, dtype="float64").dtype == np.float64


def test_lecture_network_through_json_and_npz_is_the_same(tmp_path):
    modelfile.save(byhand.lecture_network(), tmp_path / "m.json")
    modelfile.save(modelfile.load(tmp_path / "m.json"), tmp_path / "m.NPZ")
    back = modelfile.load(tmp_path / "m.NPZ")
    _same(byhand.lecture_network(), back)
    # the hand-calculated output of the lecture: σ(2σ(3) + 1) = 0.9481003
    assert back.predict([1, 0, 1])[0] == pytest.approx(0.9481003, abs=1e-7)


def test_plain_numpy_reads_the_archive_without_pickle(tmp_path):
    net = byhand.Network.create([4, 3, 2], activation="tanh", seed=5)
    modelfile.save(net, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert str(npz["format"]) == "byhand.network" and int(npz["version"]) == 1
        assert list(npz["activations"]) == ["tanh", "tanh"]
        np.testing.assert_array_equal(npz["W1"], net.layers[0].W)
        np.testing.assert_array_equal(npz["b2"], net.layers[1].b)
        assert npz["W1"].shape == (3, 4)


def _archive(**changes) -> bytes:
    """The lecture network's archive with arrays replaced (None removes one)."""
    with np.load(io.BytesIO(modelfile.npz_bytes(byhand.lecture_network()))) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "^not a NumPy .npz archive"),
        (b'{"format": "byhand.network"}', "^not a NumPy .npz archive"),
        (b"PK\x03\x04broken", "^not a readable NumPy .npz archive"),
        (_archive(format=None), "^format: missing"),
        (_archive(format=np.array("keras")), "^format: expected 'byhand.network'"),
        (_archive(format=np.array([1.0])), "^format: expected one string"),
        (_archive(version=np.array(2)), "^version: this byhand reads version 1"),
        (_archive(loss=np.array("hinge")), "^loss: unknown 'hinge'"),
        (_archive(activations=np.array(["sigmoid", "swish"])), r"^activations\[1\]: unknown"),
        (_archive(activations=np.array([], dtype=str)), "^activations: expected one activation"),
        (_archive(W2=None), "^W2: missing"),
        (_archive(b1=None), "^b1: missing"),
        (_archive(W3=np.ones((2, 2))), "^W3: unknown array"),
        (_archive(W1=np.ones(3)), r"^W1: expected a non-empty \(neurons, inputs\) matrix"),
        (_archive(W2=np.ones((2, 3))), r"^W2: shape \(2, 3\) takes 3 inputs but layer 1 has 2"),
        (_archive(b2=np.ones(3)), r"^b2: has 3 numbers, expected 2"),
        (_archive(W1=np.array([[1, np.nan, 1], [1, 1, 1]])), "^W1: numbers must be finite"),
        (_archive(b1=np.array(["1", "1"])), "^b1: expected real numbers"),
        (_archive(b1=np.ones(2, dtype=complex)), "^b1: expected real numbers"),
        (_archive(inputs=np.array(["colour"])), "^inputs: has 1 names but the network has 3"),
        (_archive(outputs=np.ones(2)), "^outputs: expected a list of strings"),
    ],
)
def test_each_malformed_archive_gets_its_own_error(data, message):
    with pytest.raises(ModelFileError, match=message):
        modelfile.loads_npz(data)


class _Touch:
    """An object whose unpickling would create a file: loading must never run it."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def test_pickled_objects_are_refused_not_run(tmp_path):
    marker = tmp_path / "unpickled"
    data = _archive(b1=np.array([_Touch(marker), 1.0], dtype=object))
    with pytest.raises(ModelFileError, match="^b1: cannot be read .it holds Python objects"):
        modelfile.loads_npz(data)
    assert not marker.exists()


def test_archive_that_unpacks_too_large_is_refused(monkeypatch):
    data = modelfile.npz_bytes(byhand.Network.create([50, 50, 2]))
    monkeypatch.setattr(modelfile, "MAX_BYTES", 10_000)
    with pytest.raises(ModelFileError, match="unpacks to .* bytes"):
        modelfile.loads_npz(data)


def test_a_header_claiming_a_huge_array_is_refused_before_allocating():
    # a member of a few bytes whose .npy header declares 10¹² float64 numbers (8 TB)
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        npy, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("W1.npy", npy.getvalue())
    with pytest.raises(ModelFileError, match="unpacks to 8000000000000 bytes"):
        modelfile.loads_npz(archive.getvalue())


def test_load_names_the_file_and_hints_at_the_suffix(tmp_path):
    (tmp_path / "bad.npz").write_bytes(_archive(W2=None))
    with pytest.raises(ModelFileError, match="bad.npz: W2: missing"):
        modelfile.load(tmp_path / "bad.npz")
    (tmp_path / "m.json").write_bytes(_archive())
    with pytest.raises(ModelFileError, match=r"zip archive .* name it \*\.npz"):
        modelfile.load(tmp_path / "m.json")


def test_failed_save_keeps_the_old_archive(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    modelfile.save(byhand.lecture_network(), path)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", explode)
    with pytest.raises(byhand.ByhandError, match="No space left"):
        modelfile.save(byhand.Network.create([3, 9, 2]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    assert zipfile.is_zipfile(path)


def test_cli_reads_an_archive_as_model(tmp_path, capsys):
    path = tmp_path / "m.npz"
    modelfile.save(byhand.lecture_network(), path)
    assert main(["forward", "--json", "--model", str(path)]) == 0
    out = capsys.readouterr().out
    assert "0.9481003" in out
