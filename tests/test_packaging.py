"""docker-compose.yml runs the same Herald the README does, wired by the documented variables."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
HERALD_SERVICES = {"app": "serve", "worker": "worker", "scheduler": "scheduler"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # resolves the << merge keys
    assert isinstance(document, dict)
    return document


def test_compose_has_the_three_processes_and_their_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"app", "worker", "scheduler", "redis", "postgres"}
    parser = build_parser()
    for name, command in HERALD_SERVICES.items():
        service = services[name]
        assert service["command"] == ["python", "-m", "bot", command]
        assert parser.parse_args([command]).command == command
        assert service["build"] == "."
        assert set(service["depends_on"]) == {"postgres", "redis"}
        assert all(dep["condition"] == "service_healthy" for dep in service["depends_on"].values())
    for backing in ("redis", "postgres"):
        assert services[backing]["healthcheck"]["test"]


def test_every_variable_compose_sets_is_one_herald_reads(compose: dict[str, Any]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    for name in HERALD_SERVICES:
        environment = compose["services"][name]["environment"]
        unknown = set(environment) - known
        assert not unknown, f"{name} sets variables Herald does not read: {sorted(unknown)}"
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
    app = compose["services"]["app"]["environment"]
    assert app["HOST"] == "0.0.0.0"
    assert f"{app['PORT']}:{app['PORT']}" in compose["services"]["app"]["ports"]


def test_the_database_credentials_agree(compose: dict[str, Any]) -> None:
    pg = compose["services"]["postgres"]["environment"]
    url = compose["services"]["app"]["environment"]["DATABASE_URL"]
    assert (
        url
        == f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    )


def test_the_image_carries_the_three_packages() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("bot", "engine", "storage"):
        assert f"COPY {package} {package}" in dockerfile
    assert 'CMD ["python", "-m", "bot", "serve"]' in dockerfile


def _compose_cli() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], check=False, capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


@pytest.mark.skipif(_compose_cli() is None, reason="no docker compose CLI on this machine")
def test_docker_compose_accepts_the_file() -> None:
    cli = _compose_cli()
    assert cli is not None
    result = subprocess.run([*cli, "config", "-q"], check=False, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _imported(*folders: str) -> set[str]:
    """The distributions the code under ``folders`` imports (standard library and our own left out)."""
    modules: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    ours = {"bot", "engine", "storage", "tests", "bench"}
    distributions = importlib.metadata.packages_distributions()
    return {
        _name(dist)
        for module in modules - ours - set(sys.stdlib_module_names)
        for dist in distributions[module]
    }


def _name(requirement: str) -> str:
    return re.split(r"[ ;<>=!\[~]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_import_is_declared_and_every_runtime_dependency_imported() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    test = {_name(r) for r in project["optional-dependencies"]["test"]}
    data_only = {"tzdata"}  # zoneinfo reads it; nothing imports it
    assert _imported("bot", "engine", "storage") == runtime - data_only
    assert _imported("tests", "bench") - runtime <= test
