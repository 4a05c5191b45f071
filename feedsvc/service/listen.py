"""One server per address: refuse to start where another process already listens.

granian lets its own workers share one listening socket (SO_REUSEPORT), which also lets a
second, unrelated server bind the same port and take half of its requests. A plain bind
without SO_REUSEPORT fails while anyone listens there, so it tells the two cases apart.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from feedsvc.errors import AddressInUse


def check_free(host: str, port: int) -> None:
    """Raise AddressInUse when another process listens on host:port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise AddressInUse(shown, f"nothing usable ({exc.strerror})") from None
            raise AddressInUse(shown, listener(port) or "another process") from None


def listener(port: int) -> str | None:
    """Return 'process NAME (pid N)' for the process listening on `port`, when visible."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        except OSError:
            continue
        if links & inodes:
            try:
                name = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
            except OSError:
                name = "?"
            return f"process {name} (pid {pid})"
    return None
