"""The container image (Dockerfile, .dockerignore) and the Compose files (deploy/compose*.yaml)
agree with the project: settings that exist and validate, commands the CLI accepts, the torch pin,
files that exist and reach the build context, the Milvus address, health checks and persistence.
Nothing here builds an image or starts a container (docs/deploy.md says what was not run).
The Compose files are read with PyYAML, which transformers, huggingface_hub and ray (pinned
dependencies) all require, so it is always installed: no dependency is added for it."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from rag.cli import build_parser
from rag.settings import Settings

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILES = sorted((ROOT / "deploy").glob("compose*.yaml"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MILVUS_PORT = 19530
APP = "rag"  # the service built from the Dockerfile in every Compose file


# --- reading the files ---------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        keyword, _, rest = (pending + text).partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def last_stage() -> list[tuple[str, str]]:
    steps = instructions()
    start = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[start:]


def dockerfile_env() -> dict[str, str]:
    """ENV of the final stage (the one that runs), `KEY=value` pairs."""
    env = {}
    for keyword, rest in last_stage():
        if keyword == "ENV":
            for pair in shlex.split(rest):
                key, sep, value = pair.partition("=")
                assert sep, f"ENV {rest!r}: write KEY=value pairs"
                env[key] = value
    return env


def dockerfile_argument_defaults() -> dict[str, str]:
    return dict(rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG" and "=" in rest)


def exec_form(keyword: str) -> list[str]:
    """The JSON array of CMD, or of HEALTHCHECK's CMD after its options."""
    (rest,) = [rest for key, rest in instructions() if key == keyword]
    if keyword == "HEALTHCHECK":
        rest = rest[rest.index("CMD ") + len("CMD ") :]
    argv = json.loads(rest)  # the exec form: no shell between Docker and the process
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    return argv


def exposed_port() -> int:
    (rest,) = [rest for keyword, rest in instructions() if keyword == "EXPOSE"]
    return int(rest.split("/")[0])


def compose(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict) and isinstance(document.get("services"), dict), f"{path.name}: no services"
    return document


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, from either of Compose's two forms."""
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.split("=", 1) for item in given)
    return {str(k): "" if v is None else str(v) for k, v in given.items()}


def interpolated(value: str) -> str:
    """`${NAME:-default}` / `${NAME-default}` / `${NAME}` as Compose would read them with NAME unset."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def app_environment(path: Path) -> dict[str, str]:
    """What the app's process sees in `path`: the image's ENV, then the Compose file's."""
    return {**dockerfile_env(), **{k: interpolated(v) for k, v in environment(compose(path)["services"][APP]).items()}}


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `relative` (a path from the root) out of the build context: a
    pattern matches the path or a folder holding it; the last matching pattern decides (`!` keeps).
    fnmatch's `*` also crosses `/`, so this errs towards "ignored", never towards "sent"."""
    parts = relative.split("/")
    verdict = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        bare = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatchcase("/".join(parts[:n]), bare) for n in range(1, len(parts) + 1)):
            verdict = not keep
    return verdict


def copied_sources() -> list[str]:
    """The build-context paths COPY'd (not those copied from another stage)."""
    sources = []
    for keyword, rest in instructions():
        if keyword in ("COPY", "ADD"):
            words = shlex.split(rest)
            if any(w.startswith("--from") for w in words):
                continue
            sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def rag_command_lines() -> list[list[str]]:
    """Every `rag ...` the Dockerfile runs at build time, up to the next `&&`, `;`, `|` or `>`."""
    found = []
    for keyword, rest in instructions():
        if keyword == "RUN":
            found += [shlex.split(m.group(1)) for m in re.finditer(r"(?:^|&&|;|\|\|)\s*rag\s+([^&;|>]+)", rest)]
    return found


def parse(argv: list[str]):
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"`rag {' '.join(argv)}` is not a command line rag accepts")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Settings are read from these files alone, not from whoever runs the tests."""
    for name in [n for n in os.environ if n.startswith("RAG_")]:
        monkeypatch.delenv(name)


# --- Compose ---------------------------------------------------------------------------------------


def test_there_are_compose_files_with_and_without_milvus():
    stores = {path.name: app_environment(path).get("RAG_STORE", "local") for path in COMPOSE_FILES}
    assert stores == {"compose.yaml": "milvus", "compose.local.yaml": "local"}


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_every_rag_variable_is_a_setting_and_its_value_validates(path, monkeypatch):
    given = app_environment(path)
    for name, value in given.items():
        if name.startswith("RAG_"):
            assert name[4:].lower() in Settings.model_fields, f"{path.name} / Dockerfile: {name} is not a setting of rag/settings.py"
            monkeypatch.setenv(name, value)
    for name, service in compose(path)["services"].items():
        if name != APP:
            assert not [k for k in environment(service) if k.startswith("RAG_")], f"{path.name}: RAG_* set on {name}, which is not the app"
    Settings()  # raises, naming the setting, if a value is not one it takes


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_the_milvus_address_is_the_milvus_service_of_the_same_file(path):
    services = compose(path)["services"]
    env = app_environment(path)
    if env.get("RAG_STORE") != "milvus":
        assert not [s for s in services.values() if str(s.get("image", "")).startswith("milvusdb/")], f"{path.name}: Milvus without RAG_STORE=milvus"
        return
    uri = urlparse(env.get("RAG_MILVUS_URI", ""))
    assert uri.scheme in ("http", "https") and uri.hostname in services, f"{path.name}: RAG_MILVUS_URI must name a service here, not {uri.hostname!r}"
    assert uri.port == MILVUS_PORT
    milvus = services[uri.hostname]
    assert str(milvus["image"]).startswith("milvusdb/milvus:") and "standalone" in milvus["command"]
    assert services[APP]["depends_on"][uri.hostname] == {"condition": "service_healthy"}
    for variable in ("ETCD_ENDPOINTS", "MINIO_ADDRESS"):  # Milvus's own dependencies, by service name
        host = environment(milvus)[variable].split(":")[0]
        assert host in services, f"{path.name}: {variable} names {host!r}, not a service"


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_services_wait_for_healthy_dependencies_and_images_are_pinned(path):
    services = compose(path)["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{path.name}: {name} must wait with `condition: service_healthy`, not a list"
        for other, how in depends.items():
            assert how == {"condition": "service_healthy"}, f"{path.name}: {name} -> {other}"
            assert "healthcheck" in services[other], f"{path.name}: {other} has no health check to wait for"
        if "build" not in service:
            image = str(service["image"])
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert tag and tag != "latest", f"{path.name}: pin {image} to a release"


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_the_app_is_this_dockerfile_its_port_and_its_data_on_volumes(path):
    document = compose(path)
    app = document["services"][APP]
    build = app["build"]
    assert (path.parent / build["context"] / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    assert [int(str(p).rsplit(":", 1)[1]) for p in app["ports"]] == [exposed_port()]
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in app["volumes"]}
    env = app_environment(path)
    for setting in ("RAG_CORPUS", "RAG_INDEX", "RAG_CACHE_DIR"):  # what `rag index` and the server write
        assert env[setting] in mounts, f"{path.name}: {setting}={env[setting]} is not on a volume: it would be lost with the container"
        assert mounts[env[setting]] in (document.get("volumes") or {}), f"{path.name}: volume {mounts[env[setting]]} is not declared"
    if "command" in app:
        assert parse(shlex.split(app["command"]) if isinstance(app["command"], str) else app["command"][1:])


# --- Dockerfile --------------------------------------------------------------------------------------


def test_the_image_serves_with_a_real_rag_command_on_the_exposed_port():
    argv = exec_form("CMD")
    assert argv[0] == "rag" and argv[0] == next(iter(PYPROJECT["project"]["scripts"]))
    args = parse(argv[1:])
    assert args.command == "serve" and args.host == "0.0.0.0" and int(args.port) == exposed_port()


def test_build_time_rag_commands_are_real():
    lines = rag_command_lines()
    assert {argv[0] for argv in lines} >= {"index", "ask"}  # the warm-up: indexes the seed corpus, answers once
    for argv in lines:
        parse(argv)


def test_torch_is_pyprojects_pin_from_the_cpu_index():
    (pin,) = [d for d in PYPROJECT["project"]["dependencies"] if re.match(r"torch\b", d)]
    installs = [rest for keyword, rest in instructions() if keyword == "RUN" and "torch==" in rest]
    assert len(installs) == 1 and re.search(r"torch==\S+", installs[0]).group(0) == pin
    assert "--index-url https://download.pytorch.org/whl/cpu" in installs[0]


def test_the_base_image_is_a_python_the_project_supports_and_it_runs_unprivileged():
    image = dockerfile_argument_defaults()["PYTHON_IMAGE"]
    assert image == "python:3.11-slim"
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(image.split(":")[1].split("-")[0])
    assert all(rest == "${PYTHON_IMAGE}" or rest.startswith("${PYTHON_IMAGE} AS") for keyword, rest in instructions() if keyword == "FROM")
    users = [rest for keyword, rest in last_stage() if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_copied_files_exist_and_reach_the_build_context():
    patterns = ignore_patterns()
    sources = copied_sources()
    assert PYPROJECT["project"]["readme"] in sources  # setuptools reads it while installing
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: no such file in the repository"
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
        assert files, f"COPY {source}: nothing to copy"
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            assert not ignored(relative, patterns), f"{relative} is COPY'd but .dockerignore keeps it out of the build context"


def test_the_build_context_leaves_out_local_environments_indexes_and_history():
    patterns = ignore_patterns()
    left_out = (".venv/bin/python", ".venv-ci/bin/python", "index/CURRENT", ".git/HEAD", ".cache-ci/embeddings.sqlite")
    for relative in (*left_out, "rag/__pycache__/cli.cpython-311.pyc", "eval/reports/eval.json", "eval/public/build/cmrc/test.jsonl"):
        assert ignored(relative, patterns), f"{relative} would be sent to the image build"
    assert not ignored("rag/index/build.py", patterns)  # `index` is the root folder only


def test_the_health_check_passes_against_the_app_and_fails_without_it():
    """The HEALTHCHECK command, run as written (its port moved), against the app while its index
    cannot load (/healthz answers regardless), then with nothing listening."""
    import uvicorn

    from rag.api.app import create_app
    from rag.api.routers.health import router

    argv = exec_form("HEALTHCHECK")
    url = next(re.finditer(r"http://[^'\"]+", argv[-1])).group(0)
    assert urlparse(url).path in {route.path for route in router.routes} and urlparse(url).port == exposed_port()

    def no_index():
        raise RuntimeError("no index in this test")

    app = create_app(Settings(), load=no_index)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    command = [sys.executable if argv[0] == "python" else argv[0], *argv[1:-1], argv[-1].replace(f":{exposed_port()}/", f":{port}/")]
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        assert subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert subprocess.run(command, capture_output=True, timeout=30).returncode != 0
