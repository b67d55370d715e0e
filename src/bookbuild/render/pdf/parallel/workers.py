"""Worker processes that keep what they made between jobs.

A ``concurrent.futures`` pool hands each job to whichever worker is free, so a worker cannot
keep a laid-out piece for a later job: the next job for that piece may land elsewhere. Here
a job may name the worker that must run it (the one that holds its piece); the others go to
whichever worker is free, in the order given. Workers are spawned (a fresh interpreter: no
forked lock or font cache state); they can be started before there is work for them, and
get what all jobs share (the book) once, by :meth:`WorkerPool.send_all`.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from multiprocessing.util import Finalize
from typing import Any

DIED = "a PDF worker process died (out of memory?)"
# A worker's loop, named: the main process spawns the workers without importing it (pypdf, the
# cache, WeasyPrint's side of bookbuild: 0.1 s that the workers' start would wait for).
PIECES = "bookbuild.render.pdf.parallel.pieces:serve_pieces"
Target = Callable[[Connection], None] | str  # a function, or "module:function"


@dataclass
class Job:
    key: Any  # the caller's name for the job; results come back under it
    message: Any  # what the worker's handler gets
    worker: int | None = None  # the worker that must run it; None: any
    rank: Any = 0  # a worker takes the job of lowest rank it may run (the first of equals)


@dataclass
class Shared:
    """What every job shares (the book), sent to every worker by :meth:`WorkerPool.send_all`:
    no reply."""

    value: Any


def serve(conn: Connection, handler: Callable[[Any], Any], shared: Callable[[Any], None] | None = None) -> None:
    """A worker's loop: run the handler on each message until told to stop (None); a
    :class:`Shared` message goes to ``shared``, without a reply."""
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        if isinstance(message, Shared):
            if shared is not None:
                shared(message.value)
            continue
        try:
            reply = (True, handler(message))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
            try:
                pickle.dumps(exc)
                reply = (False, exc)
            except Exception:  # noqa: BLE001
                reply = (False, RuntimeError("".join(traceback.format_exception(exc))))
        conn.send(reply)


class WorkerPool:
    """``count`` spawned processes running ``target(conn)`` (which calls :func:`serve`)."""

    def __init__(self, count: int, target: Target) -> None:
        context = get_context("spawn")
        self.target = target
        self.connections: list[Connection] = []
        self.processes: list[Any] = []
        self.closed = False
        self.environment = _environment()
        self.sending: dict[int, threading.Thread] = {}  # worker -> the thread writing send_all's message
        try:
            with main_module_hidden():
                for _ in range(count):
                    parent, child = context.Pipe()
                    process = context.Process(target=_by_name, args=(child, target), daemon=True) \
                        if isinstance(target, str) else context.Process(target=target, args=(child,), daemon=True)
                    process.start()
                    child.close()
                    self.connections.append(parent)
                    self.processes.append(process)
        except BaseException:
            self.close()
            raise

    def fits(self, count: int) -> bool:
        """Whether this pool, kept from an earlier build of this process, can serve a build
        that wants ``count`` workers: not closed, every worker alive, started from the same
        environment and working folder (a worker reads both when it starts)."""
        return (not self.closed and len(self.processes) == count and self.environment == _environment()
                and all(process.is_alive() for process in self.processes))

    def run(self, jobs: Iterable[Job], done: Callable[[Any, Any, int], Iterable[Job] | None] | None = None
            ) -> dict[Any, tuple[Any, int]]:
        """Run the jobs; each result with the number of the worker that made it. A job's
        message may be a function of the worker's number, called when the job is sent to it
        (so that it can use the results that came before); ``done(key, result, worker)``
        hears of each result as it comes, and may return more jobs, which go before those
        still waiting of the same rank."""
        pending = list(jobs)
        busy: dict[int, Job] = {}
        results: dict[Any, tuple[Any, int]] = {}
        while pending or busy:
            for number, connection in enumerate(self.connections):
                if number in busy:
                    continue
                job = min((j for j in pending if j.worker in (None, number)), key=lambda j: j.rank, default=None)
                if job is not None:
                    pending.remove(job)
                    self._sent(number)
                    try:
                        connection.send(job.message(number) if callable(job.message) else job.message)
                    except OSError:
                        raise RuntimeError(DIED) from None
                    busy[number] = job
            if not busy:
                raise RuntimeError("a job names a worker that does not exist")
            for connection in wait([self.connections[number] for number in busy]):
                number = self.connections.index(connection)  # type: ignore[arg-type]
                try:
                    ok, value = connection.recv()  # type: ignore[union-attr]
                except EOFError:
                    raise RuntimeError(DIED) from None
                job = busy.pop(number)
                if not ok:
                    raise value
                results[job.key] = (value, number)
                more = done(job.key, value, number) if done is not None else None
                pending[:0] = list(more or ())
        return results

    def send_all(self, message: Any) -> None:
        """The same message to every worker, before any job (the book, for instance): pickled
        once, and written to each worker on a thread of its own, since a worker still importing
        does not read it yet. :meth:`run` sends a worker its first job once its copy is written."""
        self._sent()
        data = ForkingPickler.dumps(Shared(message))

        def send(connection: Connection) -> None:
            try:
                connection.send_bytes(data)
            except OSError:  # a worker that died: run() says so when it sends the first job
                pass

        self.sending = {number: threading.Thread(target=send, args=(connection,), daemon=True,
                                                 name=f"bookbuild-pdf-send-{number}")
                        for number, connection in enumerate(self.connections)}
        for thread in self.sending.values():
            thread.start()

    def _sent(self, number: int | None = None, timeout: float | None = None) -> None:
        """Wait until what :meth:`send_all` writes to worker ``number`` (None: to every worker)
        is written (a worker that died ends the write at once)."""
        for worker in ([number] if number is not None else list(self.sending)):
            thread = self.sending.pop(worker, None)
            if thread is not None:
                thread.join(timeout)

    def close(self) -> None:
        """Stop the workers (at once if they are busy with nothing); closing twice is fine."""
        if self.closed:
            return
        self.closed = True
        self._sent(timeout=5)  # a worker that never reads is terminated below
        for connection in self.connections:
            try:
                connection.send(None)
            except OSError:
                pass
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        for connection in self.connections:
            connection.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """While spawned processes are started (these workers, the catalogue's): the ``__main__``
    module's file and spec hidden from multiprocessing, which would run that module again in
    each of them (as ``__mp_main__``). For the ``bookbuild`` command that is its script, which
    imports the whole command line before a worker can import WeasyPrint (30 to 50 ms of the
    start of each worker, on the path of every rebuild); for a program that calls the API, its
    own code, run again in every worker (and without an ``if __name__ == "__main__"`` guard,
    starting its build again there). Such a worker runs only bookbuild's functions."""
    with _HIDING:  # one thread at a time: another would save the hidden values and put them back
        main = sys.modules.get("__main__")
        saved = {name: vars(main)[name] for name in ("__file__", "__spec__") if main is not None and name in vars(main)}
        try:
            for name in saved:
                setattr(main, name, None)
            yield
        finally:
            for name, value in saved.items():
                setattr(main, name, value)


_HIDING = threading.RLock()


def _by_name(conn: Connection, target: str) -> None:
    """A worker's loop given as "module:function", imported in the worker."""
    import importlib

    module, name = target.split(":")
    getattr(importlib.import_module(module), name)(conn)


def start_workers(workers: int | None = None) -> WorkerPool:
    """The PDF worker processes, started before the book is read: they import WeasyPrint
    meanwhile and wait for the book, which plan.render_pdf_parallel sends. The pool of this
    process's last parallel build is taken again when it fits (:func:`kept_pool`)."""
    count = workers or int(os.environ.get("BOOKBUILD_WORKERS") or 0) or os.cpu_count() or 1
    return kept_pool(count, PIECES)


def _environment() -> tuple:
    try:
        folder = os.getcwd()
    except OSError:
        folder = ""
    return folder, tuple(sorted(os.environ.items()))


# The worker pool of this process's last parallel build, kept for its next (kept_pool): a
# rebuild in a running process (build --watch, the API) then does not wait 0.8 s for new
# workers to import WeasyPrint. A worker keeps nothing else of a build (pieces.py).
_KEPT: list[WorkerPool] = []


def kept_pool(count: int, target: Target) -> WorkerPool:
    """The pool kept by :func:`keep_pool` if it :meth:`~WorkerPool.fits`, else a new one (the
    kept one closed)."""
    while _KEPT:
        kept = _KEPT.pop()
        if kept.fits(count) and kept.target == target:
            return kept
        kept.close()
    return WorkerPool(count, target)


def keep_pool(pool: WorkerPool) -> None:
    """Keep the pool of a build that went through for the next build of this process; it is
    closed when the process exits. Left to multiprocessing, a kept worker (a daemon) would be
    killed at exit, before it removes its temporary copies of the book's fonts (pieces.py).
    The closing is a multiprocessing finalizer, not an ``atexit`` handler: a process that is
    itself a worker (a catalogue's) runs those at its exit, before it kills its daemons."""
    global _CLOSING_IN
    if _CLOSING_IN != os.getpid():
        Finalize(None, _close_kept, exitpriority=10)  # before the fonts' own finalizers (0)
        _CLOSING_IN = os.getpid()
    _KEPT.append(pool)


_CLOSING_IN: int | None = None  # the process that registered _close_kept


def _close_kept() -> None:
    while _KEPT:
        _KEPT.pop().close()


def release(pool: WorkerPool) -> None:
    """The end of a build that started ``pool``: closed, unless :func:`keep_pool` kept it."""
    if pool not in _KEPT:
        pool.close()
