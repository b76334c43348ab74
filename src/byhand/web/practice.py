"""The page's Practice section: an exercise from a seed, answers checked, the solution step by step.

The server keeps no state: a sheet is named by its seed, layer sizes, activation, questions
and (optionally) learning rate, and drawn again from them on every request — the same
parameters always give the same sheet (`byhand.teach.worksheet.generate`).

    GET  /api/practice/exercise?seed=7        the givens, the formulas and a box per question
    POST /api/practice/check                  {"seed": 7, …, "answers": {"h1": 0.9526}}
    GET  /api/practice/solution?seed=7        every step as MathML, in order
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from byhand import notation, numbers
from byhand.mathml import to_mathml
from byhand.teach import render
from byhand.teach.checker import MAX_ANSWERS, check, parse_answers
from byhand.teach.solution import SECTIONS
from byhand.teach.worksheet import MAX_SEED, Worksheet, check_activation, generate

router = APIRouter(prefix="/api/practice", tags=["practice"])

#: seeds the server draws when none is given
NEW_SEEDS = 1_000_000
ALL_QUESTIONS = ",".join(SECTIONS)

Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Layers = Annotated[str, Field(min_length=3, max_length=20, pattern=r"^[0-9, ]+$")]
Questions = Annotated[str, Field(min_length=1, max_length=60)]
Rate = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]


class SheetParams(BaseModel):
    """What names a sheet: the same parameters always give the same sheet."""

    model_config = ConfigDict(extra="forbid", strict=True)

    seed: Seed
    layers: Layers = "3,2,2"
    activation: str = Field("sigmoid", max_length=20)
    questions: Questions = ALL_QUESTIONS
    lr: Rate | None = None


class CheckRequest(SheetParams):
    """A sheet and the student's answers: names → numbers (null or "" for an empty box)."""

    answers: dict[Annotated[str, Field(max_length=40)], Any] = Field(
        default_factory=dict, max_length=MAX_ANSWERS
    )


@lru_cache(maxsize=256)
def _sheet(seed: int, layers: str, activation: str, questions: str, lr: float | None) -> Worksheet:
    check_activation(activation)  # before the cache keeps anything for it
    sheet = generate(seed, layers, activation, questions, lr)
    sheet.solution  # noqa: B018 - worked out once, while cached
    return sheet


def sheet_of(p: SheetParams) -> Worksheet:
    return _sheet(p.seed, p.layers.replace(" ", ""), p.activation, p.questions, p.lr)


def _params(sheet: Worksheet, p: SheetParams) -> dict:
    return {
        "seed": sheet.seed,
        "layers": ",".join(str(n) for n in sheet.net.sizes),
        "activation": p.activation,
        "questions": ",".join(sheet.questions),
        "lr": p.lr,
    }


def _inline(tex: str) -> str:
    return to_mathml(tex, display=False)


def _query(
    seed: int | None,
    layers: str,
    activation: str,
    questions: str,
    lr: float | None,
) -> SheetParams:
    return SheetParams(
        seed=secrets.randbelow(NEW_SEEDS) if seed is None else seed,
        layers=layers,
        activation=activation,
        questions=questions,
        lr=lr,
    )


SeedQuery = Annotated[int | None, Query(ge=0, le=MAX_SEED, description="Default: a new seed.")]
LayersQuery = Annotated[str, Query(min_length=3, max_length=20, pattern=r"^[0-9, ]+$")]
ActivationQuery = Annotated[str, Query(max_length=20)]
QuestionsQuery = Annotated[str, Query(min_length=1, max_length=60)]
RateQuery = Annotated[float | None, Query(gt=0, le=10)]


@router.get("/exercise")
def exercise(
    seed: SeedQuery = None,
    layers: LayersQuery = "3,2,2",
    activation: ActivationQuery = "sigmoid",
    questions: QuestionsQuery = ALL_QUESTIONS,
    lr: RateQuery = None,
) -> dict:
    """A sheet: what is given, the formulas to use, and the quantities to work out."""
    p = _query(seed, layers, activation, questions, lr)
    sheet = sheet_of(p)
    sol = sheet.solution
    sizes = sheet.net.sizes
    groups = {"input": "inputs", "target": "target", "learning_rate": "learning rate"}

    def group(g) -> str:
        if g.kind != "parameter":
            return groups[g.kind]
        ref = notation.parse(g.name, sizes)
        number = notation.neuron_offsets(sizes)[ref.layer] + ref.row + 1
        return f"neuron {number} ({notation.activation_symbol(ref.layer, ref.row, sizes).text})"

    givens = [
        {
            "name": g.name,
            "kind": g.kind,
            "group": group(g),
            "value": g.value,
            "value_text": numbers.text(g.value),
            "value_input": numbers.input_value(g.value),
            "mathml": _inline(f"{g.tex} = {numbers.tex(g.value)}"),
        }
        for g in sol.givens
    ]
    formulas = [
        to_mathml(" = ".join(block.tex))
        for block in render.formula_blocks(sheet)
        if isinstance(block, render.Equation)
    ]
    sections = [
        {
            "section": section,
            "title": render.SECTION_TITLES[section],
            "items": [
                {"name": s.name, "mathml": _inline(s.tex), "tolerance": s.tolerance}
                for s in sol.section(section)
            ],
        }
        for section in sheet.questions
    ]
    return {
        **_params(sheet, p),
        "learning_rate": sheet.learning_rate,
        "description": f"A network with {render.network_words(sheet.net)}.",
        "precision": numbers.PRECISION,
        "givens": givens,
        "formulas": formulas,
        "sections": sections,
        "asked": sheet.asked,
    }


@router.post("/check")
def check_answers(request: CheckRequest) -> dict:
    """Each answer graded, wrong ones explained, and the first wrong step."""
    sheet = sheet_of(request)
    answers = parse_answers(request.answers, "answers")
    report = check(sheet.solution, answers, sheet.asked)
    return {**_params(sheet, request), **report.to_dict()}


@router.get("/solution")
def solution(
    seed: Annotated[int, Query(ge=0, le=MAX_SEED)],
    layers: LayersQuery = "3,2,2",
    activation: ActivationQuery = "sigmoid",
    questions: QuestionsQuery = ALL_QUESTIONS,
    lr: RateQuery = None,
) -> dict:
    """The worked solution, one step at a time, as MathML (and LaTeX) in the solution's order."""
    p = _query(seed, layers, activation, questions, lr)
    sheet = sheet_of(p)
    sol = sheet.solution
    env = sol.values
    steps = []
    for step in sol.steps:
        eq = render.step_equation(step, env, 4)
        steps.append(
            {
                "name": step.name,
                "section": step.section,
                "title": render.SECTION_TITLES[step.section],
                "value": step.value,
                "value_text": numbers.text(step.value),
                "text": " = ".join(eq.text),
                "tex": " = ".join(eq.tex),
                "mathml": to_mathml(" = ".join(eq.tex)),
                "chain_mathml": _inline(step.chain_tex) if step.chain_tex else None,
            }
        )
    return {**_params(sheet, p), "steps": steps}
