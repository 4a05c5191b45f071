"""Worker processes that never outlive the process that started them."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading


def exit_with_parent() -> None:
    """Make this worker process exit as soon as its parent is gone (a pool initializer).

    A SIGKILLed build or ingest would otherwise leave its workers running on: writing into a
    temporary tree the next run removes, then waiting for work forever.
    """
    parent = multiprocessing.parent_process()
    if parent is not None:
        sentinel = parent.sentinel

        def watch() -> None:
            multiprocessing.connection.wait([sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
