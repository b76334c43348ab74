"""Practice by hand: worked solutions, worksheets with answer keys, and answer checking.

>>> from byhand import lecture_network
>>> from byhand.teach import solve, check
>>> solution = solve(lecture_network(), [1, 0, 1], [1, 0], 0.5)
>>> check(solution, {"h1": 0.9526, "o1": 0.9481}).all_right
True
"""

from byhand.teach.checker import Report, Verdict, check, read_answers
from byhand.teach.solution import SECTIONS, SLIPS, Solution, Step, solve
from byhand.teach.worksheet import Worksheet, generate

__all__ = [
    "SECTIONS",
    "SLIPS",
    "Report",
    "Solution",
    "Step",
    "Verdict",
    "Worksheet",
    "check",
    "generate",
    "read_answers",
    "solve",
]
