"""One submission graded: the practice checker's report, as `byhand check --json` prints it.

Everything the classroom knows about right and wrong comes through `grade`, so the dashboard
and the gradebook follow the checker (`byhand.teach.checker`) as it improves. The fields read
from its report: `right`, `total`, `all_right`, `first_wrong`, and each verdict's `name`,
`status`, `slip` and `slip_title`.
"""

from __future__ import annotations

from collections.abc import Mapping

from byhand.teach.checker import check, parse_answers
from byhand.teach.worksheet import Worksheet


def grade(sheet: Worksheet, answers: Mapping) -> dict:
    """The report of `answers` (names → numbers) on `sheet`, every asked step graded.

    An answer that is not a number is marked so and the others are graded, as with
    `byhand check --json`; a name the sheet does not know is a ByhandError.
    """
    given = parse_answers(answers, "answers", keep_invalid=True)
    return check(sheet.solution, given, sheet.asked).to_dict()


def slip_of(report: Mapping) -> str | None:
    """The slip behind a report's first wrong step, else the first slip found."""
    verdicts = report.get("verdicts", [])
    first = report.get("first_wrong")
    for v in verdicts:
        if v.get("name") == first and v.get("slip"):
            return v["slip"]
    return next((v["slip"] for v in verdicts if v.get("slip")), None)


def tally_of(report: Mapping) -> list[list]:
    """What the dashboard reads of a report, kept beside it: [name, status, slip, slip title]
    for each verdict (a few hundred bytes instead of the report's tens of kilobytes)."""
    return [
        [v["name"], v["status"], v.get("slip"), v.get("slip_title")]
        for v in report.get("verdicts", [])
    ]
