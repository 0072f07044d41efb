from __future__ import annotations

import typer

from app.settings import get_settings


def serve(
    host: str = typer.Option(None, help="Address to bind (default: BACKPROP_HOST)"),
    port: int = typer.Option(None, help="Port (default: BACKPROP_PORT)"),
    reload: bool = typer.Option(False, help="Reload on code changes (development)"),
) -> None:
    """Start the web server."""
    import uvicorn

    from app.main import configure_logging

    settings = get_settings()
    configure_logging()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        access_log=False,  # our middleware logs one structured line per request
    )


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
