"""LaTeX to MathML, on the server: the page, worked solutions and notebooks show math the same way."""

from __future__ import annotations

from functools import lru_cache

from latex2mathml.converter import convert


@lru_cache(maxsize=4096)
def to_mathml(tex: str, display: bool = True) -> str:
    """The MathML for one LaTeX formula: a <math> element, block or inline."""
    return convert(tex, display="block" if display else "inline")
