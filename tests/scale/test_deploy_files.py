"""Docker has no engine here, so keep the deployment files honest by reading them: every
`backprop ...` they run exists in the CLI with the options given, every BACKPROP_ variable
they set is a setting, and the compose file has its services, health checks and volumes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from app.cli import cli
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def check_backprop_command(argv: list[str]) -> None:
    """Raises unless ``backprop argv...`` names a real (sub)command with real options."""
    command = typer.main.get_command(cli)  # typer vendors click: duck-type groups
    args = list(argv)
    while hasattr(command, "commands") and args and not args[0].startswith("-"):
        sub = command.commands.get(args[0])
        assert sub is not None, f"`backprop {' '.join(argv)}`: no command {args[0]!r}"
        command, args = sub, args[1:]
    assert not hasattr(command, "commands"), f"`backprop {' '.join(argv)}` is a group"
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for arg in args:
        if arg.startswith("--"):
            assert arg.split("=")[0] in known, f"`backprop {' '.join(argv)}`: no option {arg}"


def backprop_invocations(command: list[str] | str) -> list[list[str]]:
    """Every `backprop ...` inside a compose/Docker command (exec form or `sh -c`)."""
    words = command if isinstance(command, list) else shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        return [
            found for part in re.split(r"&&|;|\|\|", words[2])
            for found in backprop_invocations(part.strip())
        ]  # fmt: skip
    if words and words[0].endswith("backprop"):
        return [words[1:]]
    return []


def test_compose_services_health_checks_and_volumes() -> None:
    services = COMPOSE["services"]
    assert {"web", "worker", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "postgres", "redis"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert set(COMPOSE["volumes"]) >= {"pgdata", "redisdata"}
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in COMPOSE["volumes"], f"{source} is not a named volume"
    # One image for both roles.
    assert services["web"]["image"] == services["worker"]["image"] == "backprop:latest"
    assert services["web"]["environment"]["BACKPROP_DEMO_QUEUE"].startswith("redis://redis:")
    assert "postgresql" in services["worker"]["environment"]["BACKPROP_DATABASE_URL"]
    # The GPU reservation is there, commented in.
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"#\s+deploy:.*#\s+- driver: nvidia.*#\s+capabilities: \[gpu\]", text, re.S)


def test_every_service_that_runs_the_sandbox_may_create_its_namespaces() -> None:
    """web and migrate read demo parameters in bubblewrap, the worker runs demos in it:
    Docker's default seccomp and AppArmor profiles would refuse the user namespace."""
    services = COMPOSE["services"]
    for name in ("web", "migrate", "worker"):
        options = services[name].get("security_opt", [])
        assert "seccomp=unconfined" in options and "apparmor=unconfined" in options, name


def test_every_backprop_command_the_files_run_exists() -> None:
    commands: list[list[str]] = []
    for service in COMPOSE["services"].values():
        if "command" in service:
            commands += backprop_invocations(service["command"])
        test = service.get("healthcheck", {}).get("test")
        if isinstance(test, list) and test[0] != "CMD":
            commands += backprop_invocations(test)
    dockerfile = (ROOT / "Dockerfile").read_text()
    for cmd in re.findall(r"^CMD (\[.*\])$", dockerfile, re.M):
        commands += backprop_invocations(yaml.safe_load(cmd))
    makefile = (ROOT / "Makefile").read_text()
    for line in re.findall(r"\$\(BIN\)/backprop ([^\n]*)", makefile):
        commands.append(shlex.split(line))
    commands = [c for c in commands if c]
    docs = (ROOT / "docs" / "TEAM.md").read_text()
    for line in re.findall(r"(?:^|\s|`)backprop ([a-z][^\n`|&;]*)", docs, re.M):
        words = [w for w in shlex.split(line, comments=True) if not w.startswith("<")]
        if words and not words[0].endswith("."):
            commands.append(words)
    assert ["serve"] in commands and ["worker"] in commands and ["worker", "--check"] in commands
    for argv in commands:
        check_backprop_command(argv)
    # The image is built with the Makefile's own setup target.
    assert "make setup" in dockerfile and re.search(r"^setup:", makefile, re.M)


def test_every_setting_the_files_set_exists() -> None:
    fields = {f"BACKPROP_{name.upper()}" for name in Settings.model_fields}
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "Dockerfile").read_text()
    text += (ROOT / "docs" / "TEAM.md").read_text()
    used = set(re.findall(r"\bBACKPROP_[A-Z_]+\b", text))
    assert used, "no settings found"
    assert used <= fields, f"not settings: {sorted(used - fields)}"


@pytest.mark.parametrize("argv", [["nope"], ["worker", "--nope"], ["db"]])
def test_the_checker_catches_a_wrong_command(argv: list[str]) -> None:
    with pytest.raises(AssertionError):
        check_backprop_command(argv)
