"""When an answer is right: byhand's one tolerance policy (docs/practice.md gives the reasoning).

The sheet asks for every value to PRECISION (4 decimals, or 3 significant figures below 0.1).
An answer a to a step s is right for a reference value r of s (the true value, or the value
recomputed from the student's own earlier answers) when

    |a − r| ≤ tol(s) = min( ½·unit(r) + Σ_d |∂s/∂d| · e(d),  CAP · max(|r|, FLOOR) )

where unit(r) is the last place r keeps at that precision, the sum runs over the values d the
step is computed from, ∂s/∂d is the step's actual slope (a central difference of its own
formula at the reference values), and e(d) is how far d may be from the value the student
worked with: ½·unit(d) when the student wrote d down (they rounded it, or kept more digits),
and ½·unit(d) + the same sum for d when they did not (its inputs were rounded too).

And three rules no tolerance overrides:

* 0 is right only for a value that is 0 (no non-zero value is 0 at 3 significant figures);
* a non-zero answer has the reference's sign;
* for an update w_new = w − η·∂L/∂w, the unchanged weight w is right only when the update it
  is checked against rounds to w at the asked precision: the true update, or the one worked
  from the student's own ∂L/∂w (when that rounds to w, writing w is what they should write).

The cap keeps the tolerance within 1% of the value for |value| ≥ FLOOR, and within
1% of FLOOR (1e-5) below it. An answer that matches the value recomputed from the student's
own answers, all of them right, is right too, unless it has drifted more than DRIFT (2%) from
the true value: then it is carried, with the advice to keep more digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence

from byhand.numbers import PRECISION, half_unit, rounded

#: the tolerance never exceeds CAP·max(|value|, FLOOR)
CAP = 0.01
FLOOR = 1e-3
#: an answer that follows from the student's own right answers is right within this much of
#: the true value (twice the cap); further off, it is carried: their rounding has drifted
DRIFT = 2 * CAP
#: floating-point slack on every comparison (a tie at the last place is right)
SLACK = 1e-12

__all__ = [
    "CAP",
    "DRIFT",
    "FLOOR",
    "PRECISION",
    "accepts",
    "cap",
    "carried_rounding",
    "tolerance",
]


def cap(value: float) -> float:
    """The widest tolerance a value may have: 1% of |value|, or 1e-5 below 1e-3."""
    return CAP * max(abs(value), FLOOR)


def _slope(compute: Callable, env: dict[str, float], d: str) -> float:
    """∂(step)/∂d at env, by a central difference of the step's own formula."""
    h = 1e-6 * max(1.0, abs(env[d]))
    saved = env[d]
    try:
        env[d] = saved + h
        up = compute(env, None)
        env[d] = saved - h
        down = compute(env, None)
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.inf
    finally:
        env[d] = saved
    slope = (up - down) / (2 * h)
    return abs(slope) if math.isfinite(slope) else math.inf


def tolerance(value: float, carried: float = 0.0) -> float:
    """tol = min(½·unit(value) + carried, cap(value)): `carried` is the inputs' rounding
    propagated through the step (from `carried_rounding`)."""
    if not math.isfinite(value):
        return 0.0
    return min(half_unit(value) + carried, cap(value))


def carried_rounding(
    steps: Sequence, env: Mapping[str, float], answered: Collection[str]
) -> dict[str, float]:
    """Σ_d |∂s/∂d|·e(d) for every step s: its inputs' rounding carried through its slope.

    `steps` are the solution's steps in order (each with `name`, `deps` and
    `compute(env, slip)`); `env` holds the givens and the values each step is computed from,
    where the slopes are taken; `answered` the steps the student wrote down.
    """
    work = dict(env)
    spread: dict[str, float] = {}  # e(d): how far d may be from what the student worked with
    out: dict[str, float] = {}
    for step in steps:
        carried = sum(_slope(step.compute, work, d) * spread[d] for d in step.deps)
        out[step.name] = math.inf if math.isnan(carried) else carried
        used = work[step.name]
        spread[step.name] = (half_unit(used) if math.isfinite(used) else math.inf) + (
            0.0 if step.name in answered else out[step.name]
        )
    return out


def accepts(
    answer: float,
    reference: float,
    carried: float,
    old: float | None = None,
    update: float | None = None,
) -> bool:
    """Whether `answer` is right for `reference`: within tolerance(reference, carried), and by
    the policy's three rules. For an update step, `old` is the parameter before it and `update`
    the value whose rounding says whether it moves (default: `reference`).
    """
    if not (math.isfinite(answer) and math.isfinite(reference)):
        return False
    tol = tolerance(reference, carried)
    if abs(answer - reference) > tol + SLACK * max(1.0, abs(reference)):
        return False
    if reference != 0 and (answer == 0 or (answer > 0) != (reference > 0)):
        return False
    update = reference if update is None else update
    if old is not None and answer == old and rounded(update) != rounded(old):
        return False
    return True
