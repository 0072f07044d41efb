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

    from app.logging_setup import configure_logging

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


def start(
    host: str = typer.Option(None, help="Address to bind (default: BACKPROP_HOST)"),
    port: int = typer.Option(None, help="Port (default: BACKPROP_PORT)"),
) -> None:
    """Apply migrations, import the content directory, then serve: what `make run` and the
    container do."""
    from app import migrate
    from app.commands.content import import_content

    settings = get_settings()
    migrate.upgrade(settings.database_url)
    import_content(settings.content_dir)
    serve(host=host, port=port, reload=False)


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
    cli.command()(start)
