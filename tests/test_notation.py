import pytest

import byhand
from byhand import notation
from byhand.errors import ByhandError

LECTURE = [3, 2, 2]


@pytest.mark.parametrize(
    "name, where",
    [
        ("w11", ("W", 0, 0, 0)),
        ("w13", ("W", 0, 0, 2)),
        ("w23", ("W", 0, 1, 2)),
        ("w31", ("W", 1, 0, 0)),
        ("w42", ("W", 1, 1, 1)),
        ("b1", ("b", 0, 0, None)),
        ("b4", ("b", 1, 1, None)),
        ("W2[1,1]", ("W", 1, 0, 0)),
        ("W1[2, 3]", ("W", 0, 1, 2)),
        ("b2[2]", ("b", 1, 1, None)),
        ("w4_2", ("W", 1, 1, 1)),
    ],
)
def test_names_map_to_rows_and_columns(name, where):
    ref = notation.parse(name, LECTURE)
    assert (ref.kind, ref.layer, ref.row, ref.col) == where


@pytest.mark.parametrize("name", ["w99", "w14", "b5", "W3[1,1]", "W1[3,1]", "b1[0]", "q1", ""])
def test_unknown_names_list_the_valid_ones(name):
    with pytest.raises(ByhandError) as err:
        notation.parse(name, LECTURE)
    assert "W" in str(err.value) or "valid names" in str(err.value)


def test_unknown_name_message_lists_lecture_names():
    with pytest.raises(ByhandError, match="w11, w12, w13, b1"):
        notation.parse("w77", LECTURE)


def test_ambiguous_names_are_refused_with_both_readings():
    sizes = [12, 11, 2]  # neuron 1 has 12 inputs; neuron 11 exists
    with pytest.raises(ByhandError, match="ambiguous.*w1_11 or w11_1"):
        notation.parse("w111", sizes)
    assert notation.parse("w1_11", sizes).col == 10
    assert notation.lecture_name(notation.ParamRef("W", 0, 0, 10), sizes) == "w1_11"


def test_every_name_round_trips_in_a_deep_network():
    sizes = [4, 12, 3, 2]
    for ref in notation.all_refs(sizes):
        assert notation.parse(notation.lecture_name(ref, sizes), sizes) == ref
        assert notation.parse(ref.layer_name, sizes) == ref


def test_parameters_read_and_set_by_name():
    net = byhand.lecture_network()
    net["w31"] = 0.25
    assert net["W2[1,1]"] == 0.25
    assert net.layers[1].W[0, 0] == 0.25
    net["b2[2]"] = -3
    assert net["b4"] == -3.0
    with pytest.raises(ByhandError):
        net["w31"] = float("nan")
