"""Names and formulas of a wide network: what a lecture-page refresh of a 64-30-10 net writes.

Times the lecture names of every parameter (`notation.lecture_name`, 2,260 of them) and the
formulas of the first 8 hidden neurons (`formulas.neuron_lines`, 64 inputs each), best of 5,
one core. Its peer is the same code of another checkout, run by the same command with that
checkout's source first on the path; the two figures' ratio is the speed-up:

    taskset -c 0 env PYTHONPATH=/path/to/old/src python benchmarks/notation_lookup.py
    taskset -c 0 env PYTHONPATH=src python benchmarks/notation_lookup.py
"""

from __future__ import annotations

import os
import timeit

import numpy as np

import byhand
from byhand import notation
from byhand.network import Network
from byhand.web import formulas


def main() -> None:
    net = Network.create([64, 30, 10], seed=0)
    fwd = net.forward(np.random.default_rng(0).random(64))
    refs = notation.all_refs(net.sizes)

    def lines() -> None:
        for i in range(8):
            formulas.neuron_lines(net, 0, i, fwd)

    def names() -> None:
        for ref in refs:
            notation.lecture_name(ref, net.sizes)

    print(f"byhand from {os.path.dirname(byhand.__file__)}; load average {os.getloadavg()[0]:.2f}")
    t = min(timeit.repeat(lines, number=20, repeat=5)) / 20
    print(f"neuron_lines, 8 neurons of 64 inputs: {t * 1e3:.2f} ms")
    t = min(timeit.repeat(names, number=5, repeat=5)) / 5
    print(f"lecture_name, {len(refs)} parameters:   {t * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
