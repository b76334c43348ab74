"""Grading a student's hand calculation step by step, and finding the first wrong step.

Every answer is graded twice, by the one tolerance policy of `byhand.teach.tolerance`:
against the true value, and against the value that follows from the student's own earlier
answers (error carried forward). Its status is then

1. right: it matches the true value, or follows from the student's own answers, all right
   (and has not drifted 2% from the true value through their rounding);
2. carried: it follows from the student's own answers, one of which is wrong — the working of
   this step is right and the mistake is further up (`carried_from` names it);
3. wrong: it does not follow from the student's own answers. A common slip is looked for —
   recomputing the step (or a step between it and the answers it depends on) with a
   forgotten bias, σ instead of σ', (y − o) instead of (o − y), a missing ½, … gives the
   answer — then the wrong sign, too few places, and otherwise which of the values it depends
   on were right and what to check, e.g. "o1 = 0.9 is wrong but h1 and h2 are right: check
   the weighted sum for neuron 3 … (expected 0.9481)".

Every message starts with what the student wrote. No step worked correctly from the student's
own values is ever wrong, so one mistake makes one wrong step.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from byhand import notation, numbers
from byhand.errors import ByhandError
from byhand.teach.solution import SLIPS, Solution, gradient_name, step_order, update_name
from byhand.teach.tolerance import DRIFT, FLOOR, SLACK, accepts, carried_rounding, tolerance

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
    """The grade of one answer and what it says to the student.

    `expected` is the true value and `tolerance` its tolerance; `own` is the value that
    follows from the student's own earlier answers and `own_tolerance` its tolerance
    (`byhand.teach.tolerance`). A `carried` answer follows from the student's own values, and
    `carried_from` names the wrong answers upstream.
    """

    name: str
    status: str
    answer: float | None
    expected: float
    tolerance: float
    message: str
    slip: str | None = None
    slip_at: str | None = None
    depends_on: dict[str, str] = field(default_factory=dict)
    own: float | None = None
    own_tolerance: float | None = None
    carried_from: list[str] = field(default_factory=list)
    slip_title: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == RIGHT

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "answer": self.answer,
            "answer_text": None if self.answer is None else numbers.written(self.answer),
            "expected": self.expected,
            "expected_text": _asked(self.expected),
            "tolerance": self.tolerance,
            "own_value": self.own,
            "own_tolerance": self.own_tolerance,
            "precision": numbers.PRECISION,
            "message": self.message,
            "slip": self.slip,
            "slip_title": self.slip_title,
            "slip_at": self.slip_at,
            "depends_on": self.depends_on,
            "carried_from": self.carried_from,
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
        number = _answer_number(value)
        if isinstance(number, NotANumber):
            if not keep_invalid:
                raise ByhandError(f"{source}: {key} must be a {number.reason}, not {value!r}")
            out[key] = number
        else:
            out[key] = number
    return out


def _answer_number(value: object) -> float | NotANumber:
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


def check(
    solution: Solution,
    answers: Mapping[str, Answer],
    asked: Sequence[str] | None = None,
) -> Report:
    """Grade `answers` (names → numbers) against `solution`; `asked` adds unanswered questions.

    Every answer is graded against both the true value and the value that follows from the
    student's own earlier answers (error carried forward), each with the tolerance of
    `byhand.teach.tolerance`. An answer that is a `NotANumber` is marked so, and the others are
    graded as if it had been left blank.
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
    ctx = _Context(solution, given)
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
        v = ctx.grade(name)
        ctx.status[name] = v.status
        ctx.roots[name] = v.carried_from if v.status == CARRIED else [name]
        verdicts.append(v)
    first = next((v for v in verdicts if v.status == WRONG), None)
    return Report(verdicts, first)


def _and(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _is(names: Sequence[str]) -> str:
    return "is" if len(names) == 1 else "are"


class _Context:
    """What grading one sheet needs: the true values, the student's, and their tolerances."""

    def __init__(self, solution: Solution, given: Mapping[str, float]) -> None:
        self.solution = solution
        self.given = given
        self.status: dict[str, str] = {}
        #: the wrong answers each graded answer's error comes from
        self.roots: dict[str, list[str]] = {}
        steps = solution.steps
        self.true_env = solution.values
        self.true_carried = carried_rounding(steps, self.true_env, given)
        #: each step computed from the student's own answers (their values where they answered)
        self.own = solution.evaluate(overrides=given)
        self.own_env = solution.given_values | {k: given.get(k, v) for k, v in self.own.items()}
        self.own_carried = carried_rounding(steps, self.own_env, given)
        self.slipped = {key: solution.evaluate(slip=key) for key in SLIPS}

    def accepts(
        self, name: str, answer: float, reference: float, carried: float, own: bool = False
    ) -> bool:
        """`accepts` for step `name`; `own` when the reference comes from the student's values
        (then the update worked from their gradient decides whether w moves)."""
        step = self.solution.by_name[name]
        old = self.true_env[step.before] if step.before else None
        return accepts(answer, reference, carried, old, reference if own else step.value)

    def grade(self, name: str) -> Verdict:
        solution, given = self.solution, self.given
        step = solution.by_name[name]
        answer, expected = given[name], step.value
        own = self.own[name]
        carried, own_carried = self.true_carried[name], self.own_carried[name]
        tol, own_tol = tolerance(expected, carried), tolerance(own, own_carried)
        deps = _nearest_answered(solution, name, given)
        dep_status = {d: self.status.get(d, RIGHT) for d in deps}
        bad = [d for d, s in dep_status.items() if s != RIGHT]
        wrote = f"{name} = {numbers.written(answer)}"

        def verdict(state: str, message: str, **extra) -> Verdict:
            return Verdict(
                name,
                state,
                answer,
                expected,
                tol,
                message,
                depends_on=dep_status,
                own=own,
                own_tolerance=own_tol,
                **extra,
            )

        if self.accepts(name, answer, expected, carried):
            return verdict(RIGHT, f"{wrote} is right")
        if self.accepts(name, answer, own, own_carried, own=True):
            roots = step_order(solution, {r for d in bad for r in self.roots.get(d, [d])})
            if roots:
                if set(roots) == set(bad):
                    why = f"but {_and(bad)} {_is(bad)} wrong"
                else:
                    why = f"but the mistake is further up, in {_and(roots)}"
                return verdict(
                    CARRIED,
                    f"{wrote} follows correctly from your {_and(deps)}, {why}: fix {roots[0]} "
                    "first",
                    carried_from=roots,
                )
            off = abs(answer - expected) / max(abs(expected), FLOOR)
            if off < DRIFT - SLACK:  # 2% off is never right, rounding or not
                worked = f" (worked from your {_and(deps)})" if deps else ""
                return verdict(RIGHT, f"{wrote} is right{worked}")
            return verdict(
                CARRIED,
                f"{wrote} follows correctly from your {_and(deps)}, but is {off:.1%} from "
                f"{numbers.text(expected)}: this step magnifies the rounding of its inputs, "
                "so keep more digits in your working",
                carried_from=[],
            )
        return self._wrong(name, answer, deps, bad, verdict)

    def _wrong(self, name, answer, deps, bad, verdict) -> Verdict:
        solution, given = self.solution, self.given
        step = solution.by_name[name]
        expected, own = step.value, self.own[name]
        wrote = f"{name} = {numbers.written(answer)}"
        # what it should be: from the student's own values when those are wrong
        should = (
            f"(from your {_and(deps)} it would be {_asked(own)})"
            if bad and math.isfinite(own)
            else f"(expected {_asked(expected)})"
        )
        if step.before and answer == self.true_env[step.before]:
            change = numbers.text(numbers.rounded(reference_of(self, name, bad) - answer))
            return verdict(
                WRONG,
                f"{wrote} leaves {step.before} unchanged, but the update changes it by {change}: "
                f"{step.hint}",
            )
        found = self._find_slip(name, answer)
        if found is not None:
            key, at = found
            where = "" if at == name else f" in {at}"
            act = solution.by_name[at].activation
            title = SLIPS[key].title_for(act)
            return verdict(
                WRONG,
                f"{wrote} is wrong: {SLIPS[key].message_for(act)}{where} ({title}) {should}",
                slip=key,
                slip_at=at,
                slip_title=title,
            )
        reference = reference_of(self, name, bad)
        if self.accepts(name, -answer, reference, self.own_carried[name]):
            return verdict(
                WRONG, f"{wrote} has the right size but the wrong sign: {step.hint} {should}"
            )
        coarse = _too_coarse(answer, reference)
        if coarse:
            return verdict(
                WRONG,
                f"{wrote} is rounded too far: give {numbers.PRECISION} ({_asked(reference)})",
            )
        skipped = _skipped_between(solution, name, given)
        if len(skipped) <= 2:
            check_text = "; then ".join([solution.by_name[s].hint for s in skipped] + [step.hint])
        else:
            shown = ", ".join(skipped[:4]) + (", …" if len(skipped) > 4 else "")
            check_text = f"{step.hint} (fill in {shown} too, to find the step that went wrong)"
        if not deps:
            return verdict(WRONG, f"{wrote} is wrong: {check_text} {should}")
        if not bad:
            return verdict(
                WRONG,
                f"{wrote} is wrong but {_and(deps)} {_is(deps)} right: {check_text} {should}",
            )
        roots = step_order(solution, {r for d in bad for r in self.roots.get(d, [d])}) or bad
        if math.isfinite(own):
            return verdict(
                WRONG,
                f"{wrote} is wrong: from your {_and(deps)} it would be "
                f"{_asked(own)}, and {_and(bad)} {_is(bad)} wrong too: "
                f"fix {roots[0]} first",
            )
        return verdict(
            WRONG, f"{wrote} is wrong, and so {_is(bad)} {_and(bad)}: fix {roots[0]} first"
        )

    def _find_slip(self, name: str, answer: float) -> tuple[str, str] | None:
        """(slip, step where it happened) when recomputing with the slip gives the answer.

        The slip is looked for at the step itself and at the steps between it and the answers
        it depends on (a step the student wrote down shows their working: it is not where
        this step went wrong), first from the student's own values and then from the true
        ones; then the slip made at every step it concerns.
        """
        solution, given = self.solution, self.given
        step = solution.by_name[name]
        own_carried = self.own_carried[name]
        chain = [
            at
            for at in [name, *reversed(solution.ancestors(name))]
            if at == name or at not in given
        ]

        def matches(value: float) -> bool:
            return self.accepts(name, answer, value, own_carried, own=True) and not self.accepts(
                name, value, step.value, self.true_carried[name]
            )

        # recompute changes an env while it works and restores it before returning
        for env, keep in ((dict(self.own_env), given), (dict(self.true_env), ())):
            for at in chain:
                for key in SLIPS:
                    if not solution.by_name[at].slip_applies(key):
                        continue
                    if matches(solution.recompute(env, name, key, at, keep)):
                        return key, at
        for key in SLIPS:
            applies = [a for a in chain if solution.by_name[a].slip_applies(key)]
            if applies and matches(self.slipped[key][name]):
                return key, applies[-1]
        return None


def _asked(value: float) -> str:
    """A value as the sheet asks for it, trailing zeros kept: −0.00200, 0.2700."""
    return numbers.text(numbers.rounded(value), zeros=True)


def reference_of(ctx: _Context, name: str, bad: Sequence[str]) -> float:
    """What a wrong answer is compared with: the value from the student's own answers when some
    answer it depends on is wrong, else the true value."""
    return ctx.own[name] if bad else ctx.solution.by_name[name].value


def _too_coarse(answer: float, reference: float) -> bool:
    """Whether `answer` is `reference` rounded to one or two places fewer than asked."""
    if not (math.isfinite(reference) and answer != 0):
        return False
    places = numbers.decimals(reference)
    return any(
        abs(answer - round(reference, places - k)) <= 1e-12 * max(1.0, abs(answer)) for k in (1, 2)
    )


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
