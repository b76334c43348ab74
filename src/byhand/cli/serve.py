"""`byhand serve`: the interactive lecture on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import webbrowser
from pathlib import Path

import click

from byhand import modelfile
from byhand.cli.common import app, model_option
from byhand.errors import ByhandError
from byhand.limits import LIMITS
from byhand.web.settings import ENVIRONMENT, Settings


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


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft limit on open files towards `wanted` (at most the hard limit);
    the soft limit now. Each connection is a file: the usual 1,024 (macOS: 256) is too few for
    a class with kept-alive connections."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else soft


def allowed_hosts(host: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The names a request's Host may carry: localhost, --host when it is a name, and every
    --allowed-host (an IP address is always accepted: see Settings)."""
    hosts = ["localhost", *names]
    if host not in ("0.0.0.0", "::") and not _is_address(host):
        hosts.append(host)
    return tuple(dict.fromkeys(h.lower() for h in hosts))


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes. A class of hundreds wants one per core; a killed one is replaced.",
)
@click.option(
    "--allowed-host",
    "allowed",
    metavar="NAME",
    multiple=True,
    help="A name students reach the server by (e.g. byhand.school.example); repeat for more. "
    "Addresses (192.168.1.20) are always accepted.",
)
def serve(
    host: str,
    port: int,
    model: str | None,
    open_browser: bool,
    classroom: bool = False,
    database: str | None = None,
    lectures: str | None = None,
    workers: int = 1,
    allowed: tuple[str, ...] = (),
) -> None:
    """Serve the interactive lecture and its JSON API (/api, documented at /docs)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from byhand.web.app import create_app
    from byhand.web.protocol import Protocol

    # a bad model file or a malformed lecture fails here, before any worker starts
    net = modelfile.load(model) if model else None
    database = _classroom(classroom, database)
    create_app(model=net, database=database, lectures=lectures)
    sock = listen(host, port)
    port = sock.getsockname()[1]
    url = address(host, port)
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}: anyone who can reach this machine on port {port} "
            "can use the server. Use --host 127.0.0.1 to keep it to this machine.",
            err=True,
        )
    limits = LIMITS
    files = raise_open_files(limits.max_connections + 256)
    connections = max(64, min(limits.max_connections, files - 256))
    settings = Settings(
        limits=limits,
        model=str(Path(model).resolve()) if model else None,
        lectures=str(Path(lectures).resolve()) if lectures else None,
        allowed_hosts=allowed_hosts(host, allowed),
        per_client=True,
        heavy_lane=True,
    )
    # every worker process reads its settings from here (they are started with this environment)
    os.environ[ENVIRONMENT] = settings.to_environment()
    shown = f" in {workers} processes" if workers > 1 else ""
    click.echo(f"byhand: serving the lecture at {url}{shown}  (Ctrl+C stops it)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(
        "byhand.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=Protocol,
        server_header=False,
        date_header=False,
        log_level="warning",
        # past this many connections (or requests in hand) a process answers 503 at once
        limit_concurrency=connections,
        timeout_keep_alive=limits.keep_alive_seconds,
        # SIGTERM: stop accepting, let requests in hand finish (training streams are cut after)
        timeout_graceful_shutdown=limits.drain_seconds,
    )
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
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
