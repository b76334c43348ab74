"""How one server runs: its limits (kept in `byhand.limits`), its model, the hosts it serves.

`byhand serve` builds one Settings from its options; with several worker processes each
process reads the same Settings back from the environment (`to_environment` /
`from_environment`), so every worker serves the same model under the same rules.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from byhand.limits import LIMITS, Limits

__all__ = ["ENVIRONMENT", "LIMITS", "Limits", "Settings"]

#: the environment variable that carries the settings to worker processes
ENVIRONMENT = "BYHAND_SERVE_SETTINGS"


@dataclass(frozen=True)
class Settings:
    """One server's settings.

    allowed_hosts: the names a request's Host may carry (an IP address is always accepted: a
    page on another site cannot make a browser send one for its own name); None accepts any
    Host (a test client, an app embedded in something else). per_client: each client's request
    rate and trainings are limited; heavy_lane: requests with big bodies are answered in helper
    processes (`byhand serve` turns both on).
    """

    limits: Limits = LIMITS
    #: a model file /api/lecture hands out instead of the lecture's network
    model: str | None = None
    #: a folder of Markdown lectures served beside the shipped ones
    lectures: str | None = None
    allowed_hosts: tuple[str, ...] | None = None
    per_client: bool = False
    #: heavy requests (big bodies) are answered by helper processes (byhand.web.heavy)
    heavy_lane: bool = False
    #: this app runs in such a helper: /api/train answers with the job it built, not a stream
    lane_helper: bool = False

    def to_environment(self) -> str:
        """These settings as one line of JSON, for a worker process's environment."""
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls, environ=os.environ) -> Settings:
        """The settings `to_environment` wrote; the defaults when there are none."""
        text = environ.get(ENVIRONMENT)
        if not text:
            return cls()
        data = json.loads(text)
        hosts = data.get("allowed_hosts")
        return cls(
            limits=Limits(**data.get("limits", {})),
            model=data.get("model"),
            lectures=data.get("lectures"),
            allowed_hosts=None if hosts is None else tuple(hosts),
            per_client=bool(data.get("per_client", False)),
            heavy_lane=bool(data.get("heavy_lane", False)),
            lane_helper=bool(data.get("lane_helper", False)),
        )
