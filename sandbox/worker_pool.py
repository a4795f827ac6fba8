"""Worker slots: a thread per slot feeds its fork server, and replaces it when it is lost.

Each slot keeps the next job already written to its worker behind the running one, so a
fork server never waits for the host between jobs. A job starts only once the worker has
answered the job before it: when a worker dies, the job it was running fails with
WorkerLost, and the jobs queued behind it go to the replacement worker.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from typing import NamedTuple

from .worker import Worker, WorkerLost

JOBS_PER_WORKER = 2  # the running job and the next one


class _Job(NamedTuple):
    request: dict
    timeout_s: float
    reply: Future  # the fork server's reply, or WorkerLost


class WorkerPool:
    """`size` fork servers, started eagerly so that a broken sandbox fails at construction."""

    def __init__(self, start_worker: Callable[[int], Worker], size: int) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None stops a slot
        slots = [_Slot(index, start_worker, self._jobs) for index in range(size)]
        started = [Future() for _ in slots]
        # Workers start on these threads, which live as long as the pool: bubblewrap's
        # --die-with-parent kills a worker when the *thread* that started it exits.
        self._threads = [
            threading.Thread(target=slot.serve, args=(start,), name=f"sandbox-slot-{index}")
            for index, (slot, start) in enumerate(zip(slots, started, strict=True))
        ]
        for thread in self._threads:
            thread.start()
        wait(started)
        failure = next((start.exception() for start in started if start.exception() is not None), None)
        if failure is not None:
            self.close()
            raise failure

    @property
    def size(self) -> int:
        return len(self._threads)

    def submit(self, request: dict, timeout_s: float) -> Future:
        """A future of the fork server's reply to `request`; it raises WorkerLost if the worker
        died, or did not answer within `timeout_s` of starting the job."""
        if not self._threads:
            raise RuntimeError("the sandbox is closed")
        job = _Job(request, timeout_s, Future())
        self._jobs.put(job)
        return job.reply

    def close(self) -> None:
        """Stop every worker once the jobs submitted so far have finished."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []


class _Slot:
    """One worker and the jobs written to it, served by one thread."""

    def __init__(self, index: int, start_worker: Callable[[int], Worker], jobs: queue.SimpleQueue) -> None:
        self._index = index
        self._start_worker = start_worker
        self._jobs = jobs
        self._worker: Worker | None = None
        self._sent: collections.deque[_Job] = collections.deque()  # the first one is running
        self._running_since = 0.0
        self._stopping = False

    def serve(self, started: Future) -> None:
        try:
            self._worker = self._start_worker(self._index)
        except BaseException as error:
            started.set_exception(error)
            return
        started.set_result(None)
        while self._sent or not self._stopping:
            self._take_jobs()
            if self._sent:
                self._finish_running_job()
        if self._worker is not None:
            self._worker.close()

    def _take_jobs(self) -> None:
        """Write jobs to the worker until it has JOBS_PER_WORKER (waiting only when it has none)."""
        while not self._stopping and len(self._sent) < JOBS_PER_WORKER:
            try:
                job = self._jobs.get(block=not self._sent)
            except queue.Empty:
                return
            if job is None:
                self._stopping = True
            elif self._worker is not None or self._restart([job]):
                if not self._sent:
                    self._running_since = time.monotonic()
                self._sent.append(job)
                self._send(job)

    def _finish_running_job(self) -> None:
        running = self._sent.popleft()
        try:
            reply = self._worker.receive(self._running_since + running.timeout_s)
        except WorkerLost as lost:
            diagnostics = self._worker.diagnostics()
            running.reply.set_exception(WorkerLost(f"{lost}\n{diagnostics}".strip(), timed_out=lost.timed_out))
            self._replace_worker()
        else:
            running.reply.set_result(reply)
            if reply.get("retire"):
                self._replace_worker()
        self._running_since = time.monotonic()

    def _replace_worker(self) -> None:
        """Start a new worker and give it the jobs the old one had not started."""
        self._worker.close()
        self._worker = None
        if self._restart(self._sent):
            for job in self._sent:
                self._send(job)
        else:
            self._sent.clear()

    def _restart(self, waiting: Iterable[_Job]) -> bool:
        """Start a worker; if that fails, fail the `waiting` jobs with the reason."""
        try:
            self._worker = self._start_worker(self._index)
        except BaseException as error:
            for job in waiting:
                job.reply.set_exception(error)
            return False
        return True

    def _send(self, job: _Job) -> None:
        with contextlib.suppress(OSError):  # the worker is gone: receiving the running job's reply will say so
            self._worker.send(job.request)
