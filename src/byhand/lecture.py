"""Lecture 3's own network: fruit from colour, weight and sugar, 3 inputs → 2 → 2, all ones."""

from __future__ import annotations

from byhand.network import Network

INPUT_NAMES = ("colour", "weight", "sugar")
OUTPUT_NAMES = ("fruit A", "fruit B")
#: the lecture's worked example: every weight and bias 1, and these inputs
INPUTS = (1.0, 0.0, 1.0)
#: the output the lecture's example wants: fruit A, not fruit B
TARGET = (1.0, 0.0)
#: the learning rate the lecture's gradient step uses by default
LEARNING_RATE = 0.5


def lecture_network() -> Network:
    """The 3-2-2 sigmoid network with every weight and bias 1 and the loss L = ½Σₖ(oₖ − yₖ)²."""
    return Network.create(
        [3, 2, 2],
        activation="sigmoid",
        loss="half_sse",
        init="constant",
        value=1.0,
        input_names=INPUT_NAMES,
        output_names=OUTPUT_NAMES,
    )
