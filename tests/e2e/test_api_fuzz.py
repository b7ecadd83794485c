"""The HTTP API fuzzed from its own OpenAPI schema (Schemathesis on Hypothesis): a few thousand
generated requests, valid and not, and none may get a 5xx. Derandomised, so CI runs the same cases."""

import pytest
from conftest import wait_ready
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from rag.api.app import create_app
from rag.settings import load_settings

schemathesis = pytest.importorskip("schemathesis", reason="Schemathesis is not installed: pip install -e '.[test]' to fuzz the API")
EXAMPLES = 2000


def test_no_generated_request_gets_a_server_error(engine, monkeypatch):
    monkeypatch.delenv("RAG_PROTECT_READS", raising=False)
    app = create_app(load_settings(api_key="fuzz-key", access_log=False), load=lambda: engine)
    with TestClient(app) as client:  # starts the app's background loader; the cases reuse the loaded app
        wait_ready(client)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        seen: dict[int, int] = {}

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        @given(case=schema.as_strategy())
        def no_server_error(case):
            response = case.call()
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body, response.text[:300])

        no_server_error()
    assert sum(seen.values()) >= EXAMPLES * 0.9 and 200 in seen and any(400 <= s < 500 for s in seen), seen
