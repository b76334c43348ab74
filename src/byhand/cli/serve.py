"""`byhand serve`: the interactive lecture on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import webbrowser

import click

from byhand import modelfile
from byhand.cli.common import app, model_option
from byhand.errors import ByhandError


def is_loopback(host: str) -> bool:
    """Whether `host` can be reached only from this machine (127.0.0.1, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def address(host: str, port: int) -> str:
    """The URL to open: a wildcard host is shown as 127.0.0.1, an IPv6 host in brackets."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; its connections send small answers at once (TCP_NODELAY), not
    after the 40 ms a delayed acknowledgement would otherwise cost each request."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host.strip("[]"), port), family=family)
    except OSError as err:
        raise ByhandError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@app.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. 0.0.0.0 lets other machines (a classroom) connect.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port."
)
@model_option
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
@click.option(
    "--lectures",
    metavar="DIR",
    default=None,
    help="Also serve every Markdown lecture in DIR (see docs/lectures.md).",
)
@click.option(
    "--classroom",
    is_flag=True,
    help="Keep classes (join codes, dashboard, gradebook) in byhand-classroom.db here.",
)
@click.option(
    "--database",
    metavar="PATH|URL",
    envvar="BYHAND_DATABASE_URL",
    default=None,
    help="Keep classes in this SQLite file or database URL (postgresql+psycopg://…).",
)
def serve(
    host: str,
    port: int,
    model: str | None,
    open_browser: bool,
    classroom: bool = False,
    database: str | None = None,
    lectures: str | None = None,
) -> None:
    """Serve the interactive lecture and its JSON API (/api, documented at /docs)."""
    import uvicorn

    from byhand.web.app import create_app

    net = modelfile.load(model) if model else None
    database = _classroom(classroom, database)
    site = create_app(model=net, database=database, lectures=lectures)  # bad lectures stop here
    sock = listen(host, port)
    port = sock.getsockname()[1]
    url = address(host, port)
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}: anyone who can reach this machine on port {port} "
            "can use the server. Use --host 127.0.0.1 to keep it to this machine.",
            err=True,
        )
    click.echo(f"byhand: serving the lecture at {url}  (Ctrl+C stops it)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(
        site,
        host=host,
        port=port,
        server_header=False,
        date_header=False,
        log_level="warning",
        # longer than a browser's pause between clicks: a POST never meets a closing connection
        timeout_keep_alive=75,
        timeout_graceful_shutdown=3,
    )
    # hand the interpreter between threads every 0.5 ms (not 5): a click waiting while a
    # training chunk computes is answered within a millisecond or two
    sys.setswitchinterval(0.0005)
    uvicorn.Server(config).run(sockets=[sock])


def _classroom(on: bool, database: str | None) -> str | None:
    """The classroom's database URL, opened (and migrated) now so a bad one fails at start;
    exported as $BYHAND_DATABASE_URL for worker processes."""
    import os

    from byhand.classroom import db

    if not on and not database:
        return None
    url = db.resolve(database)
    db.open_database(url).close()
    os.environ[db.ENV] = url
    click.echo(f"byhand: classes are kept in {db.shown(url)}")
    return url
