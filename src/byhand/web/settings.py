"""The server's limits: one table, kept in `byhand.limits` (the CLI reads it too).

Re-exported here for the parts of the site that ask the server's settings for them.
"""

from __future__ import annotations

from byhand.limits import LIMITS, Limits

__all__ = ["LIMITS", "Limits"]
