"""One engine over the real corpus for every test that needs answers (the index is built once)."""

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from rag.engine import Engine
from rag.settings import load_settings

CORPUS = Path(__file__).parents[1] / "corpus"


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    return Engine.open(load_settings(corpus=CORPUS, index=tmp_path_factory.mktemp("index") / "index"))


def wait_ready(client, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.05)


@contextmanager
def serving(app):
    """`app` under uvicorn on a free loopback port, for real HTTP clients; yields its base URL."""
    import httpx
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=base) as client:
        deadline = time.monotonic() + 30
        while True:
            try:
                wait_ready(client)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(engine):
    """The app over the shared engine, served on loopback; yields its base URL."""
    from rag.api.app import create_app

    with serving(create_app(load=lambda: engine)) as base:
        yield base
