"""Grading a student's hand calculation step by step, and finding the first wrong step.

An answer is right when it is within the step's tolerance of the engine's value (see
`Solution`). A wrong answer is then explained, in this order:

1. carried: it follows from the student's own earlier answers, one of which is wrong — the
   working of this step is right and the mistake is further up;
2. a slip: recomputing the step (or a step it depends on) with a common slip — a forgotten
   bias, σ instead of σ', (y − o) instead of (o − y), a missing ½, … — gives the answer;
3. otherwise: which of the values it depends on were right, and what to check, e.g.
   "o1 is wrong but h1 and h2 are right: check the weighted sum for neuron 3".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from byhand import notation
from byhand.errors import ByhandError
from byhand.teach.solution import SLIPS, Solution, gradient_name, num, step_order, update_name

#: at most this many answers in one file or request
MAX_ANSWERS = 2000

RIGHT, WRONG, CARRIED, MISSING = "right", "wrong", "carried", "missing"
#: an answer that was written but is not a number: graded as not right, the others still graded
INVALID = "invalid"
#: how a number is written, told with an answer that is not one
NUMBER_EXAMPLE = "write it like 0.9526 or -0.0024"


@dataclass(frozen=True)
class NotANumber:
    """An answer that is not a number, as it was written; `check` marks it and grades the rest."""

    text: str
    #: what it should have been: "number", or "finite number" for inf and nan
    reason: str = "number"

    def __str__(self) -> str:
        return self.text


@dataclass
class Verdict:
    """The grade of one answer and what it says to the student."""

    name: str
    status: str
    answer: float | None
    expected: float
    tolerance: float
    message: str
    slip: str | None = None
    slip_at: str | None = None
    depends_on: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == RIGHT

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "answer": self.answer,
            "expected": self.expected,
            "tolerance": self.tolerance,
            "message": self.message,
            "slip": self.slip,
            "slip_title": SLIPS[self.slip].title if self.slip else None,
            "slip_at": self.slip_at,
            "depends_on": self.depends_on,
        }


@dataclass
class Report:
    """Every verdict, in the solution's order, and the first wrong step."""

    verdicts: list[Verdict]
    first_wrong: Verdict | None

    @property
    def right(self) -> int:
        return sum(v.status == RIGHT for v in self.verdicts)

    @property
    def answered(self) -> int:
        return sum(v.status != MISSING for v in self.verdicts)

    @property
    def invalid(self) -> int:
        return sum(v.status == INVALID for v in self.verdicts)

    @property
    def all_right(self) -> bool:
        return all(v.status == RIGHT for v in self.verdicts)

    @property
    def summary(self) -> str:
        text = f"{self.right} of {len(self.verdicts)} right"
        missing = len(self.verdicts) - self.answered
        notes = [f"{missing} not answered"] if missing else []
        if self.invalid:
            notes.append(f"{self.invalid} not a number")
        if notes:
            text += f" ({', '.join(notes)})"
        if self.first_wrong is not None:
            text += f"; first wrong step: {self.first_wrong.message}"
        elif self.all_right:
            text += ": every step is right"
        return text

    def to_dict(self) -> dict:
        return {
            "right": self.right,
            "answered": self.answered,
            "total": len(self.verdicts),
            "all_right": self.all_right,
            "invalid": self.invalid,
            "summary": self.summary,
            "first_wrong": self.first_wrong.name if self.first_wrong else None,
            "verdicts": [v.to_dict() for v in self.verdicts],
        }


# --- names ------------------------------------------------------------------------------------

_GRAD = re.compile(r"^(?:dL/d|∂L/∂|grad_|dL_d)(.+)$")
_NEW = re.compile(r"^(?:new_(.+)|(.+?)(?:_new|'|′|_next))$")
_DELTA = re.compile(r"^(?:δ|delta|d)_?(.+)$")


def canonical(name: str, solution: Solution) -> str:
    """The solution's name for an answer's key: 'dL/dW2[1,1]' → 'dL/dw31', 'delta_o1' → 'δ_o1'."""
    raw = str(name)
    text = re.sub(r"\s+", "", raw)
    if text in solution.by_name:
        return text
    sizes = solution.net.sizes

    def param(part: str) -> str | None:
        try:
            return notation.lecture_name(notation.parse(part, sizes), sizes)
        except ByhandError:
            return None

    if m := _GRAD.match(text):
        p = param(m.group(1))
        if p is not None:
            return gradient_name(p)
    if m := _NEW.match(text):
        p = param(m.group(1) or m.group(2))
        if p is not None:
            return update_name(p)
    if m := _DELTA.match(text):
        d = f"δ_{m.group(1)}"
        if d in solution.by_name:
            return d
    if text.lower() in ("loss", "l"):
        return "L"
    if param(text) is not None:
        p = param(text)
        raise ByhandError(
            f"{raw!r} is given on the sheet, not asked: did you mean {gradient_name(p)} "
            f"or {update_name(p)}?"
        )
    examples: dict[str, str] = {}
    for s in solution.steps:
        examples.setdefault(s.kind, s.name)
    raise ByhandError(f"unknown quantity {raw!r}; names look like {', '.join(examples.values())}")


Answer = float | None | NotANumber


def read_answers(
    text: str, source: str = "answers", keep_invalid: bool = False
) -> dict[str, Answer]:
    """The student's answers from JSON or YAML: a mapping of names to numbers (or empty).

    With `keep_invalid`, an answer that is not a number becomes a `NotANumber` for `check`
    to mark, instead of an error for the whole file.
    """
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise ByhandError(f"{source}: not valid JSON or YAML{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ByhandError(f"{source}: expected names with numbers, like 'h1: 0.9526'")
    return parse_answers(data, source, keep_invalid)


def parse_answers(
    data: Mapping, source: str = "answers", keep_invalid: bool = False
) -> dict[str, Answer]:
    """Check an answers mapping: string keys, each a number, a numeric string or empty.

    An answer that is not a (finite) number is an error naming it, or with `keep_invalid` a
    `NotANumber` that `check` marks while it grades the other answers.
    """
    if len(data) > MAX_ANSWERS:
        raise ByhandError(f"{source}: {len(data)} answers, at most {MAX_ANSWERS} are allowed")
    out: dict[str, Answer] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ByhandError(f"{source}: the name {key!r} must be text, like h1 or dL/dw31")
        if value is None or (isinstance(value, str) and not value.strip()):
            out[key] = None
            continue
        number = _number(value)
        if isinstance(number, NotANumber):
            if not keep_invalid:
                raise ByhandError(f"{source}: {key} must be a {number.reason}, not {value!r}")
            out[key] = number
        else:
            out[key] = number
    return out


def _number(value: object) -> float | NotANumber:
    """An answer's value as a finite number, or what it was written as when it is not one."""
    if isinstance(value, (str, int, float)):
        shown = str(value)
    else:
        shown = json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return NotANumber(shown)
    try:
        number = float(value.replace("−", "-")) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        return NotANumber(shown)
    if not math.isfinite(number):
        return NotANumber(shown, "finite number")
    return number


# --- grading ----------------------------------------------------------------------------------


def _close(a: float, b: float, tol: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= tol


def check(
    solution: Solution,
    answers: Mapping[str, Answer],
    asked: Sequence[str] | None = None,
) -> Report:
    """Grade `answers` (names → numbers) against `solution`; `asked` adds unanswered questions.

    An answer that is a `NotANumber` is marked so, and the others are graded as if it had been
    left blank.
    """
    given: dict[str, float] = {}
    invalid: dict[str, NotANumber] = {}
    for key, value in answers.items():
        name = canonical(key, solution)
        if (name in given or name in invalid) and value is not None:
            raise ByhandError(f"{name} is answered twice (as {key!r} and another name)")
        if isinstance(value, NotANumber):
            invalid[name] = value
        elif value is not None:
            given[name] = float(value)
    wanted = [canonical(n, solution) for n in asked] if asked is not None else []
    names = [
        s.name for s in solution.steps if s.name in given or s.name in invalid or s.name in wanted
    ]
    from_student = solution.evaluate(overrides=given)
    slipped = {key: solution.evaluate(slip=key) for key in SLIPS}
    status: dict[str, str] = {}
    verdicts = []
    for name in names:
        step = solution.by_name[name]
        if name in invalid:
            bad = invalid[name]
            message = f"{name}: {bad.text!r} is not a {bad.reason}: {NUMBER_EXAMPLE}"
            verdicts.append(Verdict(name, INVALID, None, step.value, step.tolerance, message))
            continue
        if name not in given:
            verdicts.append(
                Verdict(name, MISSING, None, step.value, step.tolerance, f"{name}: not answered")
            )
            continue
        v = _grade(solution, name, given, status, from_student, slipped)
        status[name] = v.status
        verdicts.append(v)
    first = next((v for v in verdicts if v.status == WRONG), None)
    return Report(verdicts, first)


def _nearest_answered(solution: Solution, name: str, given: Mapping[str, float]) -> list[str]:
    """The answered steps `name` depends on, looking through steps the student left out."""
    out: list[str] = []
    todo = list(solution.by_name[name].deps)
    seen: set[str] = set()
    while todo:
        d = todo.pop(0)
        if d in seen:
            continue
        seen.add(d)
        if d in given:
            out.append(d)
        else:
            todo += solution.by_name[d].deps
    return step_order(solution, out)


def _skipped_between(solution: Solution, name: str, given: Mapping[str, float]) -> list[str]:
    """Unanswered steps between `name` and its nearest answered ones (their working is hidden)."""
    out: list[str] = []
    todo = list(solution.by_name[name].deps)
    while todo:
        d = todo.pop(0)
        if d not in given and d not in out:
            out.append(d)
            todo += solution.by_name[d].deps
    return step_order(solution, out)


def _and(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _grade(
    solution: Solution,
    name: str,
    given: Mapping[str, float],
    status: Mapping[str, str],
    from_student: Mapping[str, float],
    slipped: Mapping[str, Mapping[str, float]],
) -> Verdict:
    step = solution.by_name[name]
    answer, expected, tol = given[name], step.value, step.tolerance
    deps = _nearest_answered(solution, name, given)
    dep_status = {d: status.get(d, RIGHT) for d in deps}
    shown = num(expected)
    if _close(answer, expected, tol):
        return Verdict(
            name, RIGHT, answer, expected, tol, f"{name} = {shown} is right", None, None, dep_status
        )

    def verdict(state: str, message: str, slip: str | None = None, at: str | None = None):
        return Verdict(name, state, answer, expected, tol, message, slip, at, dep_status)

    bad = [d for d, s in dep_status.items() if s != RIGHT]
    if bad and _close(answer, from_student[name], tol):
        return verdict(
            CARRIED,
            f"{name} follows correctly from your {_and(deps)}, but {_and(bad)} "
            f"{'is' if len(bad) == 1 else 'are'} wrong: fix {bad[0]} first",
        )
    found = _find_slip(solution, name, answer, given, status, from_student, slipped)
    if found is not None:
        key, at = found
        where = "" if at == name else f" in {at}"
        return verdict(
            WRONG, f"{name} is wrong: {SLIPS[key].message}{where} ({SLIPS[key].title})", key, at
        )
    if _close(answer, -expected, tol) and not bad:
        return verdict(
            WRONG,
            f"{name} has the right size but the wrong sign: {step.hint}",
        )
    skipped = _skipped_between(solution, name, given)
    if len(skipped) <= 2:
        check_text = "; then ".join([solution.by_name[s].hint for s in skipped] + [step.hint])
    else:
        shown = ", ".join(skipped[:4]) + (", …" if len(skipped) > 4 else "")
        check_text = f"{step.hint} (fill in {shown} too, to find the step that went wrong)"
    if not deps:
        return verdict(WRONG, f"{name} is wrong: {check_text}")
    if not bad:
        return verdict(
            WRONG,
            f"{name} is wrong but {_and(deps)} {'is' if len(deps) == 1 else 'are'} right: "
            f"{check_text}",
        )
    return verdict(
        WRONG,
        f"{name} is wrong, and so {'is' if len(bad) == 1 else 'are'} {_and(bad)}, which it "
        f"depends on: fix {bad[0]} first",
    )


def _find_slip(
    solution: Solution,
    name: str,
    answer: float,
    given: Mapping[str, float],
    status: Mapping[str, str],
    from_student: Mapping[str, float],
    slipped: Mapping[str, Mapping[str, float]],
) -> tuple[str, str] | None:
    """(slip, step where it happened) when recomputing with the slip gives the answer.

    Nearest steps first, with the student's other answers in place; then the same with the
    true values around the slip; then the slip made at every step it concerns.
    """
    step = solution.by_name[name]
    tol, expected = step.tolerance, step.value
    # a step the student answered right cannot be where the slip happened
    chain = [
        at
        for at in [name, *reversed(solution.ancestors(name))]
        if at == name or status.get(at) != RIGHT
    ]
    # the student's values where they answered, else what follows from their answers
    own_env = solution.given_values | {k: given.get(k, v) for k, v in from_student.items()}

    def matches(value: float) -> bool:
        return _close(answer, value, tol) and not _close(value, expected, tol)

    for env, keep in ((own_env, given), (dict(solution.values), ())):
        for at in chain:
            for key in SLIPS:
                if not solution.by_name[at].slip_applies(key):
                    continue
                if matches(solution.recompute(env, name, key, at, keep)):
                    return key, at
    for key in SLIPS:
        applies = [a for a in chain if solution.by_name[a].slip_applies(key)]
        # made everywhere it can be, but only where the student did not answer right
        if applies and matches(slipped[key][name]):
            return key, applies[-1]
    return None
