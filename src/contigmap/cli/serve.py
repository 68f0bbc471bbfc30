"""``contigmap serve``: edit road scenarios live in the browser (a local web app)."""

from __future__ import annotations

import secrets
import threading
import webbrowser
from pathlib import Path

import click

from contigmap.cli.echo import stage_printer
from contigmap.cli.errors import fail_cleanly
from contigmap.cli.options import config_option, priorities_option, region_argument

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@click.command(
    epilog="""\b
Examples:
  contigmap serve layers/huayuan/region.yaml              # http://127.0.0.1:8765/, opens it
  contigmap serve layers/huayuan/region.yaml --port 9000 --no-open
  contigmap serve my/region.yaml --host 0.0.0.0           # on the LAN: prints a token URL
\b
In the page: click a road to upgrade or close it, draw a new road between two
junctions, add a bus line, switch season, undo/redo, and save the edits as a
scenario YAML that `contigmap scenario run` reproduces exactly.
"""
)
@region_argument()
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but localhost requires a token (printed).")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True,
              help="Open the page in the default browser.")
@config_option
@priorities_option
@click.pass_context
@fail_cleanly
def serve(ctx: click.Context, region: Path, port: int, host: str, open_browser: bool,
          config: Path | None, priority_config: Path | None) -> None:
    """Serve REGION's road network for live scenario editing (one region, loaded once)."""
    import uvicorn

    from contigmap.serve import ServedRegion, create_app

    show = stage_printer(ctx.obj["quiet"])
    if show is not None:
        show("prepare")
    served = ServedRegion.prepare(region, config=config, priority_config=priority_config)
    token = None if host in LOCAL_HOSTS else secrets.token_urlsafe(24)
    app = create_app(served, token=token)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"contigmap serve: {served.name} at {url}")
    if token:
        click.echo("  (listening beyond localhost: the token in this address is required)")
    click.echo("  Ctrl+C stops the server.")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
