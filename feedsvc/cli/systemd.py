"""The systemd-unit command: a unit that runs `feedsvc serve` with these settings, hardened."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from feedsvc.cli.common import settings_of
from feedsvc.config.settings import Settings, to_environ

# Hardening that `feedsvc serve` runs under (a test starts the unit's command and checks
# `systemd-analyze verify`). Left out on purpose: MemoryDenyWriteExecute (cffi and ctypes
# callbacks need writable code pages), PrivateNetwork (it serves), ProtectProc=invisible
# (the supervisor reads its writer's /proc entries).
_HARDENING = (
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectSystem=strict",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "RemoveIPC=yes",
    "UMask=0027",
    # AF_NETLINK: getaddrinfo asks the kernel which address families are configured.
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
    "CapabilityBoundingSet=",
)
_HOMES = (Path("/home"), Path("/root"), Path("/run/user"))


def _quoted(word: str, *, command: bool = False) -> str:
    """Return one word as systemd reads it back: quoted, with `%` (and in a command line,
    where systemd expands variables, `$`) standing for itself."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    escaped = escaped.replace("%", "%%")
    return '"' + (escaped.replace("$", "$$") if command else escaped) + '"'


def _writable(settings: Settings) -> list[Path]:
    """Return the folders the service writes: the catalog's (backups, cards, images, keys,
    the publication id), the export, and a folder deploy target."""
    folders = [settings.database.parent, settings.cards, settings.export_dir]
    target = settings.deploy_target
    if target is not None and "://" not in target:
        folders.append(Path(target))
    found: list[Path] = []
    for folder in (Path(os.path.abspath(f)) for f in folders):
        if not any(folder == kept or kept in folder.parents for kept in found):
            found = [kept for kept in found if folder not in kept.parents] + [folder]
    return found


def unit_text(
    settings: Settings,
    *,
    name: str,
    user: str,
    host: str,
    port: int,
    workers: int | None,
    environment_file: Path,
    python: str | None = None,
) -> str:
    """Return a systemd service unit that runs `feedsvc serve` with `settings` (and `python`,
    by default the interpreter running now)."""
    run_dir = Path("/run") / name
    shown = f"[{host}]" if ":" in host else host
    # As `serve` does: without a site URL, the site is where it listens.
    site_url = settings.site.url
    if site_url == Settings().site.url:
        site_url = f"http://{shown}:{port}"
    environ = {
        **to_environ(settings),
        "FEEDSVC_SITE_URL": site_url,
        "FEEDSVC_RUN_DIR": str(run_dir),
    }
    defaults = to_environ(Settings())
    always = ("FEEDSVC_SEEDS_DIR", "FEEDSVC_DATABASE", "FEEDSVC_EXPORT_DIR", "FEEDSVC_SITE_URL")
    command = [python or os.path.abspath(sys.executable), "-m", "feedsvc", "serve", "--host", host]
    command += ["--port", str(port)] + ([] if workers is None else ["--workers", str(workers)])
    writable = _writable(settings)
    inside_homes = any(
        home == path or home in path.parents
        for home in _HOMES
        for path in [Path(command[0]), settings.seeds_dir.resolve(), *writable]
    )
    lines = [
        f"# Made by `feedsvc systemd-unit`: install as /etc/systemd/system/{name}.service,",
        f"# create the user ({user}) and give it the folders named in ReadWritePaths, then",
        f"# `systemctl daemon-reload && systemctl enable --now {name}`. Health: `feedsvc status`",
        f"# with the same FEEDSVC_* variables, or GET http://{shown}:{port}/healthz.",
        "[Unit]",
        f"Description=feedsvc: {' '.join(settings.site.title.split()).replace('%', '%%')}",
        "After=network.target",
        "",
        "[Service]",
        "Type=exec",
        f"User={user}",
        f"Group={user}",
        f"WorkingDirectory={os.path.abspath(settings.database.parent).replace('%', '%%')}",
    ]
    for variable, value in environ.items():
        if value is not None and (variable in always or value != defaults[variable]):
            lines.append(f"Environment={_quoted(f'{variable}={value}')}")
    lines += [
        # Settings and secrets (AWS keys for a deploy target) kept apart from the unit.
        f"EnvironmentFile=-{environment_file}",
        "ExecStart=" + " ".join(_quoted(word, command=True) for word in command),
        # No ExecReload: settings are read once at start; a changed catalog needs no signal.
        "Restart=on-failure",
        "RestartSec=2s",
        # SIGTERM to serve alone: it stops its workers and its writer in order, then exits.
        "KillMode=mixed",
        "TimeoutStopSec=30s",
        f"RuntimeDirectory={name}",
        "RuntimeDirectoryMode=0750",
        *(f"ReadWritePaths={_quoted(str(folder))}" for folder in writable),
        f"ProtectHome={'read-only' if inside_homes else 'yes'}",
        *_HARDENING,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


@click.command("systemd-unit")
@click.option("--name", default="feedsvc", help="The unit's name (and its /run folder's).")
@click.option("--user", default="feedsvc", help="The dedicated user the service runs as.")
@click.option("--host", default="127.0.0.1", help="Address `serve` listens on.")
@click.option("--port", default=8000, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes.",
    show_default="number of cores",
)
@click.option(
    "--environment-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Optional file of more FEEDSVC_* and AWS_* variables.",
    show_default="/etc/NAME/NAME.env",
)
@click.pass_context
def systemd_unit(
    ctx: click.Context,
    name: str,
    user: str,
    host: str,
    port: int,
    workers: int | None,
    environment_file: Path | None,
) -> None:
    """Print a systemd service unit that runs `feedsvc serve` with the current settings.

    Paths are made absolute from here; the catalog's folder, the export and a folder deploy
    target are the only places the service may write.
    """
    click.echo(
        unit_text(
            settings_of(ctx),
            name=name,
            user=user,
            host=host,
            port=port,
            workers=workers,
            environment_file=environment_file or Path("/etc") / name / f"{name}.env",
        ),
        nl=False,
    )
