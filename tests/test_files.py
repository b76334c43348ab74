"""The CLI's files: only regular files are read (at most the limit + 1 byte) or replaced,
YAML answers may not expand through aliases, and a plot is written whole or not at all."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from byhand import files, lecture, modelfile, plots
from byhand.cli import main
from byhand.errors import ByhandError


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "lecture.json"
    modelfile.save(lecture.lecture_network(), path)
    return path


# --- reading -------------------------------------------------------------------------------------


def test_a_symlink_to_a_device_is_refused_not_read_forever(tmp_path, capsys):
    # /dev/zero's size says 0: a read by size would never end
    link = tmp_path / "model.json"
    link.symlink_to("/dev/zero")
    status, _, err = run(capsys, "forward", "--model", str(link))
    assert status == 2 and "it is a device, not a regular file" in err
    csv = tmp_path / "data.csv"
    csv.symlink_to("/dev/zero")
    status, _, err = run(capsys, "train", "--data", str(csv), "--target", "y", "--epochs", "1")
    assert status == 2 and "it is a device" in err


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)
    outcome: list = []

    def read():
        try:
            files.read_text(fifo, 1024, "answers")
        except ByhandError as err:
            outcome.append(str(err))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5.0)
    assert not reader.is_alive(), "reading a FIFO waited for a writer"
    assert outcome and "a FIFO (named pipe)" in outcome[0]


def test_reads_stop_at_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_bytes(b" " * 101)
    with pytest.raises(ByhandError, match=r"101 bytes is more than a model file may hold"):
        files.read_bytes(path, 100, "model file")
    assert files.read_bytes(path, 101) == b" " * 101
    # a JSON model larger than its limit is refused with the way out: save it as .npz
    monkeypatch.setattr(modelfile, "MAX_JSON_BYTES", 50)
    with pytest.raises(ByhandError, match=r"save a model this large as \.npz"):
        modelfile.load(path)


def test_yaml_aliases_are_refused(tmp_path, capsys, model_file):
    # "a billion laughs": each line doubles the one before; 449 bytes once took 3.7 GB
    lines = ["a0: &a0 [1, 1]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    answers = tmp_path / "answers.yaml"
    answers.write_text("\n".join(lines) + "\nh1: *a29\n")
    status, _, err = run(capsys, "check", str(model_file), str(answers))
    assert status == 2 and "YAML aliases (*name) are not allowed" in err


# --- writing -------------------------------------------------------------------------------------


def test_out_refuses_a_fifo_and_leaves_it_a_fifo(tmp_path, capsys):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    status, _, err = run(capsys, "backprop", "--out", str(fifo))
    assert status == 2 and "it is a FIFO (named pipe); byhand writes only regular files" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_out_refuses_a_device_and_leaves_it_a_device(tmp_path, capsys):
    # a private copy of /dev/null's node: `--out /dev/null` as root once replaced it with a file
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    status, _, err = run(capsys, "backprop", "--out", str(null))
    assert status == 2 and "it is a device" in err
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_out_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path, capsys):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    status, _, _ = run(capsys, "backprop", "--out", str(link))
    assert status == 0
    assert link.is_symlink() and modelfile.load(target).sizes == [3, 2, 2]


def test_a_plot_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "curve.png"
    path.write_bytes(b"the old plot")
    history = [{"epoch": 1, "train_loss": 1.0, "test_loss": None}]

    def half_then_fail(self, target, **options):
        target.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", half_then_fail)
    with pytest.raises(ByhandError, match="cannot write the plot"):
        plots.save_training_plot(path, history)
    assert path.read_bytes() == b"the old plot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png"]
