"""Keeping the writer busy: a fetch thread ahead of it, and SQLite checkpoints beside it.

The writer (the calling thread) builds rows, executes statements and commits; fetching and
decoding happen in the fetch thread, which sends the next request as soon as a page is decoded,
and SQLite's WAL checkpoints (an fsync each) in a checkpoint thread. sqlite3 and sockets release
the GIL while they wait, so on two cores the three overlap.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Iterator
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
T = TypeVar("T")

# --- the fetch thread ------------------------------------------------------------------------

_END = object()


def prefetch(pages: Iterator[T], depth: int = 8) -> Iterator[T]:
    """Run a page generator in a thread, a bounded queue ahead of the consumer."""
    handoff: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(_END)
        except BaseException as error:  # handed to the writer, which raises it
            put(error)

    thread = threading.Thread(target=produce, name="mlissues-fetch", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


# --- SQLite checkpoints -------------------------------------------------------------------


def tune_writer(connection: Connection) -> None:
    """SQLite settings for the writer's connection (no-op elsewhere).

    WAL checkpoints are left to the checkpoint thread (see background_checkpoints); the
    writer's own automatic checkpoint stays as a backstop at 256 MB instead of 4 MB. A 64 MB
    page cache keeps the B-tree pages that random GitHub ids touch in memory.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=65536")
        connection.exec_driver_sql("PRAGMA cache_size=-65536")
        connection.commit()  # ends the autobegun transaction; pages begin their own


@contextlib.contextmanager
def background_checkpoints(engine: Engine, every: float = 0.25) -> Iterator[None]:
    """Copy SQLite's WAL into the database file from a thread of its own.

    A checkpoint ends in an fsync of the database file, which on a virtual disk took a third
    of a large crawl when the writer ran it itself every 4 MB of pages. A PASSIVE checkpoint
    on another connection never blocks the writer, and sqlite3 releases the GIL while it waits
    on the disk, so writing and syncing overlap. WAL with synchronous=NORMAL keeps every
    committed page safe from a killed process either way. No-op on other databases.
    """
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    stop = threading.Event()

    def checkpoint_loop() -> None:
        raw = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            while not stop.wait(every):
                raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")  # what the last pages left
        except sqlite3.Error as error:  # the writer's own checkpoints take over
            log.debug("background checkpoint stopped: %s", error)
        finally:
            raw.close()

    thread = threading.Thread(target=checkpoint_loop, name="mlissues-checkpoint", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
