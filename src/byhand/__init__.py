"""byhand: neural networks, built by hand.

>>> import byhand
>>> net = byhand.lecture_network()
>>> net.forward([1, 0, 1]).output
array([0.94810035, 0.94810035])
"""

import sys

from byhand.activations import ACTIVATIONS, get_activation
from byhand.errors import ByhandError, ModelFileError
from byhand.explanation import explain
from byhand.lecture import lecture_network
from byhand.losses import LOSSES, get_loss
from byhand.network import Layer, Network

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "ByhandError",
    "Layer",
    "ModelFileError",
    "Network",
    "explain",
    "get_activation",
    "get_loss",
    "lecture_network",
]
__version__ = "0.1.0"

if "IPython" in sys.modules:  # inside a notebook or an IPython shell: show objects as drawings
    from byhand import notebook

    notebook.register()
