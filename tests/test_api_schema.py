"""Schemathesis against the app's own OpenAPI schema, in-process: whatever it sends, valid or
not, the server answers without a 5xx, with a documented status, content type and shape."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from byhand.limits import LIMITS
from byhand.web import jobs
from byhand.web.app import create_app

# the classroom's routes answer too: they keep their classes in a fresh SQLite file
APP = create_app(database=str(Path(tempfile.mkdtemp(prefix="byhand-schema-")) / "classes.db"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_within_its_schema(case, monkeypatch):
    # a generated training job that happens to be valid stops within a second
    monkeypatch.setattr(jobs.POOL, "limits", LIMITS.with_(max_job_seconds=1.0))
    case.call_and_validate(checks=CHECKS)
