"""byhand in Jupyter: a network shows as its diagram, a pass as tables, the chain rule as MathML.

IPython asks its display formatters how to show what a cell returns. This module tells them,
from the top, so that the engine's records (network.py, trace.py, explanation.py) know nothing of
how they are displayed. `import byhand` calls :func:`register` when it runs inside IPython (a
notebook or an IPython shell); a program that starts IPython later may call it itself.
"""

from __future__ import annotations

from byhand import diagram, display
from byhand.explanation import Explanation
from byhand.network import Network
from byhand.trace import BackwardTrace, ForwardTrace

#: how each kind of object is shown, by MIME type
FORMATS = {
    "image/svg+xml": {Network: diagram.network_svg},
    "text/html": {
        ForwardTrace: display.forward_html,
        BackwardTrace: display.backward_html,
        Explanation: display.explanation_html,
    },
}


def register(shell=None) -> bool:
    """Teach the display formatters of `shell` (else the running IPython's) to show byhand's
    objects: FORMATS, one `for_type` each. False, and nothing done, outside IPython."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
        if shell is None:
            return False
    formatters = shell.display_formatter.formatters
    for mime, shows in FORMATS.items():
        for cls, show in shows.items():
            formatters[mime].for_type(cls, show)
    return True
