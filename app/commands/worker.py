"""``backprop worker``: a demo worker that takes runs from BACKPROP_DEMO_QUEUE (Redis)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from app.settings import get_settings


def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Runs at once (default: BACKPROP_DEMO_WORKERS)")
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="auto, cpu or cuda (default: BACKPROP_DEMO_DEVICE)")
    ] = None,
    gpu: Annotated[
        str | None,
        typer.Option(help="Which GPU(s) this worker uses, e.g. 0 or 0,1 (CUDA_VISIBLE_DEVICES)"),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Worker name (default: host:pid)")] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Health check: exit 0 when a worker on this host (or --name) is registered "
            "and alive, else 1",
        ),
    ] = False,
) -> None:
    """Run demos from the queue: preloads torch, picks its GPU, reports its device and
    demos, then serves until SIGTERM (finishing the runs in hand)."""
    from app.logging_setup import configure_logging
    from app.services.demo_queue_worker import WorkerError, alive_here, serve

    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu  # before the zygote starts torch
    settings = get_settings()
    if not settings.demo_queue:
        typer.echo(
            "BACKPROP_DEMO_QUEUE is not set: a worker takes runs from the queue, e.g. "
            "BACKPROP_DEMO_QUEUE=redis://127.0.0.1:6379/0",
            err=True,
        )
        raise typer.Exit(2)
    if check:
        found = alive_here(settings, name)
        typer.echo(found or "no live demo worker registered from this host")
        raise typer.Exit(0 if found else 1)
    device = device or settings.demo_device
    if device not in ("auto", "cpu", "cuda"):
        raise typer.BadParameter("--device must be auto, cpu or cuda")
    concurrency = concurrency or max(1, settings.demo_workers)
    configure_logging()
    try:
        code = serve(settings, concurrency=concurrency, device=device, name=name, echo=typer.echo)
    except WorkerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    raise typer.Exit(code)


def register(cli: typer.Typer) -> None:
    cli.command()(worker)
