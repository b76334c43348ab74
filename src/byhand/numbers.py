"""How a number is written, in every medium: text, LaTeX (and so MathML) and HTML inputs.

One rule for how many places a number keeps, as the worksheets ask it:

    4 decimals, or 3 significant figures below 0.1        0.9526, −0.00255, 0.0412

and one way to write what those places show:

    text    0.9526   −0.00255   5.2 × 10⁻⁶   (a real minus sign; × 10ⁿ with superscripts)
    tex     0.9526   -0.00255   5.2 \\times 10^{-6}   (never "e" inside a formula)
    input   0.9526   -0.00255   5.2e-6       (what an HTML number box and float() read)
    column  0.9520   −0.00255   5.2 × 10⁻⁶   (a table's column: the diagram, the page's tables
                                             and, with 7 decimals, the CLI's and notebooks')

The page's script writes numbers with the same rules (static/js/numbers.js, pinned against
this module by tests/test_number_faces.py).

A number is written in scientific notation when it is smaller than SMALL (more than three
zeros after the point) or at least LARGE, with the significant figures its decimals would
show (three at least).
"""

from __future__ import annotations

import math

#: the decimals a worksheet asks for (above 0.1), and the significant figures below it
DECIMALS = 4
FIGURES = 3
#: the precision a worksheet asks for, as the sheet says it
PRECISION = f"{DECIMALS} decimals, or {FIGURES} significant figures below 0.1"
#: below SMALL and from LARGE on, numbers are written as m × 10ⁿ
SMALL = 1e-4
LARGE = 1e7

#: the decimals of the CLI's and notebooks' tables and of the chain rule's numbers
TABLE_DECIMALS = 7

MINUS = "−"
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decimals(value: float, digits: int = DECIMALS) -> int:
    """The decimals `value` keeps: `digits`, or at least FIGURES significant figures below 0.1."""
    v = abs(float(value))
    if v == 0 or v >= 0.1 or not math.isfinite(v):
        return digits
    return max(digits, FIGURES - 1 - math.floor(math.log10(v)))


def rounded(value: float, digits: int = DECIMALS) -> float:
    """`value` rounded as asked: round(v, decimals(v)); 0.0025538 → 0.00255, 0.95257 → 0.9526."""
    v = float(value)
    return round(v, decimals(v, digits)) if math.isfinite(v) else v


def half_unit(value: float, digits: int = DECIMALS) -> float:
    """Half the last place kept: how far correct rounding can move `value` (5e-5 for 0.9526)."""
    return 0.5 * 10.0 ** -decimals(value, digits)


def _parts(value: float, digits: int, zeros: bool = False) -> tuple[str, int | None]:
    """(mantissa or fixed text with '-' signs, exponent or None), trailing zeros removed unless
    `zeros` (a table's column: 3.2500000; a whole number stays whole)."""
    v = float(value)
    if v == 0:
        return "0", None
    if digits > 0 and 0.1 <= abs(v) < LARGE and not (zeros and v.is_integer()):
        # the common case, `digits` decimals (the general path below gives the same text)
        text = f"{v:.{digits}f}"
        if "." in text and not zeros:
            text = text.rstrip("0").rstrip(".")
        return text, None
    if zeros and v.is_integer() and abs(v) < LARGE:
        return str(int(v)), None
    if abs(v) < SMALL or abs(v) >= LARGE:
        # as many significant figures as `digits` decimals would show, at least FIGURES and
        # at most the 15 a float holds without noise (4.8137 × 10⁵⁹, not 4.8137000000000004)
        e = math.floor(math.log10(abs(v)))
        figures = max(FIGURES, min(15, decimals(v, digits) + e + 1))
        mantissa, exponent = f"{v:.{figures - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return mantissa, int(exponent)
    text = f"{v:.{decimals(v, digits)}f}"
    if "." in text and not zeros:
        text = text.rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text), None


def text(value: float, digits: int = DECIMALS, zeros: bool = False) -> str:
    """A number as text: 0.9526, −0.00255, 5.2 × 10⁻⁶ (real minus signs, no trailing zeros
    unless `zeros`, for a table's column)."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    body, exponent = _parts(v, digits, zeros)
    if exponent is not None:
        body = f"{body} × 10{str(exponent).translate(_SUPERSCRIPT)}"
    return body.replace("-", MINUS)


def column(value: float, digits: int = DECIMALS) -> str:
    """A number in a table's column: `text` with its trailing zeros kept (0.9520, 1.0000000 is
    1, a whole number staying whole): the diagram and the page at 4 decimals, the CLI's tables
    and notebooks at TABLE_DECIMALS."""
    return text(value, digits, zeros=True)


def written(value: float) -> str:
    """A number as a student wrote it, every digit kept: −0.002554, 2.5 × 10⁻⁶ (shortest form
    that reads back as the same float)."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    shown = repr(v)
    if "e" in shown:
        mantissa, exponent = shown.split("e")
        shown = f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    elif shown.endswith(".0"):
        shown = shown[:-2]
    return shown.replace("-", MINUS)


def tex(value: float, digits: int = DECIMALS, zeros: bool = False) -> str:
    r"""A number inside a LaTeX formula: 0.9526, -0.00255, 5.2 \times 10^{-6} (trailing zeros
    kept with `zeros`, for a matrix's column)."""
    v = float(value)
    if not math.isfinite(v):
        return r"\infty" if v > 0 else (r"-\infty" if v < 0 else r"\mathrm{NaN}")
    body, exponent = _parts(v, digits, zeros)
    return body if exponent is None else rf"{body} \times 10^{{{exponent}}}"


def term(value: float, digits: int = DECIMALS, latex: bool = False) -> str:
    """A number as a term of a formula: negative numbers and powers of ten in parentheses,
    (−0.00255), (5.2 × 10⁻⁶)."""
    shown = tex(value, digits) if latex else text(value, digits)
    wrap = shown.startswith(("-", MINUS)) or "10" in shown and ("×" in shown or "times" in shown)
    return f"({shown})" if wrap else shown


def signed(value: float, digits: int = DECIMALS, latex: bool = False) -> str:
    """A number after the first term of a sum: '+ 0.0012' or '− 0.0027863', never '+ −…'."""
    shown = tex(value, digits) if latex else text(value, digits)
    if shown.startswith(("-", MINUS)):
        return f"{'-' if latex else MINUS} {shown[1:]}"
    return f"+ {shown}"


def input_value(value: float, digits: int = DECIMALS) -> str:
    """A number for an HTML input's value: what float() and the box read back (5.2e-6)."""
    v = float(value)
    if not math.isfinite(v):
        return ""
    body, exponent = _parts(v, digits)
    return body if exponent is None else f"{body}e{exponent}"
