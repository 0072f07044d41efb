"""``backprop demo list | run | check``: demos from the command line, through the same
isolated pool the web app uses."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from dataclasses import asdict
from typing import Annotated, Any

import typer

from app.settings import Settings, get_settings

demo_cli = typer.Typer(help="List, run and check the PyTorch demos.", no_args_is_help=True)

DeviceOption = Annotated[
    str | None, typer.Option("--device", help="auto, cpu or cuda (default: BACKPROP_DEMO_DEVICE)")
]


def _catalog(settings: Settings):  # type: ignore[no-untyped-def]
    from app.services.demo_runs import DemoCatalog

    return DemoCatalog(settings.content_dir)


def _pool(settings: Settings, device: str | None, workers: int):  # type: ignore[no-untyped-def]
    from app.workers.pool import LocalPool, PoolConfig

    overrides: dict[str, Any] = {"workers": workers, "queue_size": 10_000}
    if device:
        if device not in ("auto", "cpu", "cuda"):
            raise typer.BadParameter("--device must be auto, cpu or cuda")
        overrides["device"] = device
    pool = LocalPool(PoolConfig.from_settings(settings, **overrides))
    pool.start()
    if not pool.wait_ready(120):
        pool.stop()
        typer.echo("the demo pool did not warm up within 120 s", err=True)
        raise typer.Exit(2)
    return pool


def _parse_param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise typer.BadParameter(f"{text!r}: write --param name=value")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # a Literal choice such as relu
    return key.strip(), value


@demo_cli.command("list")
def list_demos() -> None:
    """Every demo: name, title, parameters with bounds, claims."""
    catalog = _catalog(get_settings())
    for name, info in catalog.all().items():
        typer.echo(f"{name}: {info.spec.title}")
        for field, prop in info.spec.params_schema().get("properties", {}).items():
            bounds = prop.get("enum") or [prop.get("minimum"), prop.get("maximum")]
            typer.echo(f"    --param {field}={prop.get('default')!r}  {bounds}")
        for claim in info.claims:
            typer.echo(f"    claim {claim}")
    for name, error in catalog.errors().items():
        typer.echo(f"{name}: BROKEN: {error}", err=True)


def _job(info: Any, params: dict[str, Any]):  # type: ignore[no-untyped-def]
    from app.workers.executor import Job

    return Job(
        run_id=uuid.uuid4().hex,
        demo_name=info.name,
        demo_path=str(info.spec.path),
        code_hash=info.spec.code_hash,
        params=params,
    )


@demo_cli.command("run")
def run_demo(
    name: str,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="name=value")] = None,
    device: DeviceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON")] = False,
) -> None:
    """Runs one demo in the sandboxed pool and prints its claims and metrics."""
    from app.services.demo_runs import DemoNotFound, ParamsInvalid, canonical_params
    from app.workers.executor import run_blocking

    settings = get_settings()
    try:
        info = _catalog(settings).get(name)
        params = canonical_params(info.spec, dict(_parse_param(p) for p in param or []))
    except DemoNotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except ParamsInvalid as exc:
        for error in exc.errors:
            typer.echo(f"--param {error['field']}: {error['message']}", err=True)
        raise typer.Exit(2) from exc
    pool = _pool(settings, device, workers=1)
    try:
        outcome = run_blocking(pool, _job(info, params))
    finally:
        pool.stop()
    if as_json:
        typer.echo(json.dumps(asdict(outcome), indent=2))
    elif outcome.status == "succeeded" and outcome.result:
        result = outcome.result
        typer.echo(result["summary"])
        for claim in result["claims"]:
            typer.echo(f"  {'✓' if claim['passed'] else '✗'} {claim['id']}: {claim['text']}")
        for key, value in result["metrics"].items():
            typer.echo(f"  {key} = {value}")
        typer.echo(
            f"{outcome.device_name}, torch {outcome.torch_version}, "
            f"{outcome.timings.get('run_ms', 0):.1f} ms"
        )
    else:
        typer.echo(f"FAILED ({outcome.reason_code}): {outcome.reason}", err=True)
        if outcome.detail:
            typer.echo(outcome.detail, err=True)
    if outcome.status != "succeeded":
        raise typer.Exit(1)


@demo_cli.command("check")
def check_demos(device: DeviceOption = None) -> None:
    """Runs every demo with its defaults, and with each card's params, and fails when a
    claim a card relies on (its ``proves``) does not pass."""
    from app.services.demo_runs import ParamsInvalid, canonical_params, card_demos
    from app.workers.executor import Outcome, RunEvent

    settings = get_settings()
    catalog = _catalog(settings)
    demos = catalog.all()
    problems: list[str] = [f"demo {n}: {e}" for n, e in catalog.errors().items()]
    # (demo, canonical params) -> the cards relying on that run.
    runs: dict[tuple[str, str], tuple[dict[str, Any], list[Any]]] = {}
    for name, info in demos.items():
        defaults = canonical_params(info.spec, {})
        runs[(name, json.dumps(defaults, sort_keys=True))] = (defaults, [])
    for card in card_demos(settings.content_dir):
        where = f"{card.file}: card {card.card_id}"
        info = demos.get(card.demo_name)
        if info is None:
            problems.append(f"{where}: no demo named {card.demo_name!r}")
            continue
        for claim in card.proves:
            if claim not in info.claims:
                problems.append(f"{where}: demo {card.demo_name} has no claim {claim!r}")
        try:
            params = canonical_params(info.spec, card.params)
        except ParamsInvalid as exc:
            problems.append(f"{where}: demo params: {exc.errors}")
            continue
        key = (card.demo_name, json.dumps(params, sort_keys=True))
        runs.setdefault(key, (params, []))[1].append(card)

    pool = _pool(settings, device, workers=max(1, settings.demo_workers))
    outcomes: dict[tuple[str, str], Outcome] = {}
    done = threading.Condition()
    total = len(runs)
    started = time.perf_counter()
    try:
        for key, (params, _cards) in runs.items():

            def on_event(event: RunEvent, key: tuple[str, str] = key) -> None:
                if event.kind != "finished" or event.outcome is None:
                    return
                with done:
                    outcomes[key] = event.outcome
                    mark = "ok" if event.outcome.status == "succeeded" else "FAILED"
                    ms = event.outcome.timings.get("total_ms", 0)
                    typer.echo(f"[{len(outcomes)}/{total}] {key[0]} {key[1]}: {mark} ({ms:.0f} ms)")
                    done.notify_all()

            pool.submit(_job(demos[key[0]], params), on_event)
        with done:
            done.wait_for(lambda: len(outcomes) == total)
    finally:
        pool.stop()

    for key, (_params, cards) in runs.items():
        outcome = outcomes[key]
        if outcome.status != "succeeded":
            problems.append(f"demo {key[0]} {key[1]}: run failed: {outcome.reason}")
            continue
        claims: dict[str, dict[str, Any]] = {
            c["id"]: c for c in (outcome.result or {}).get("claims", [])
        }
        for missing in set(demos[key[0]].claims) - set(claims):
            problems.append(f"demo {key[0]}: reports no result for claim {missing!r}")
        for card in cards:
            for claim_id in card.proves:
                found = claims.get(claim_id)
                if found is not None and not found["passed"]:
                    problems.append(
                        f"{card.file}: card {card.card_id} relies on claim {claim_id!r} of demo "
                        f"{key[0]}, which did not pass with {key[1]}: {found.get('values')}"
                    )
    elapsed = time.perf_counter() - started
    if problems:
        for problem in problems:
            typer.echo(f"FAIL {problem}", err=True)
        typer.echo(f"{len(problems)} problem(s) in {total} runs ({elapsed:.1f} s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"all {total} demo runs passed every claim their cards rely on ({elapsed:.1f} s)")


def register(cli: typer.Typer) -> None:
    cli.add_typer(demo_cli, name="demo")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(demo_cli())
