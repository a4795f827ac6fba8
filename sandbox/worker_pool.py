"""Worker slots shared by threads: each job borrows a slot, and a lost worker is replaced."""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .worker import Worker, WorkerLost


@dataclass
class _Slot:
    index: int
    worker: Worker | None  # None after a loss, until the slot's next job starts a new one


class WorkerPool:
    """`size` fork servers, started eagerly so that a broken sandbox fails at construction."""

    def __init__(self, start_worker: Callable[[int], Worker], size: int) -> None:
        self._size = size
        self._idle: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self._closed = False
        # Workers are started only on these threads, which live as long as the pool: bubblewrap's
        # --die-with-parent kills a worker when the *thread* that started it exits.
        self._starter = ThreadPoolExecutor(max_workers=size, thread_name_prefix="sandbox-starter")
        self._start_worker = lambda index: self._starter.submit(start_worker, index).result()
        starts = [self._starter.submit(start_worker, index) for index in range(size)]
        failure = next((start.exception() for start in starts if start.exception() is not None), None)
        if failure is not None:
            for start in starts:
                if start.exception() is None:
                    start.result().close()
            self._starter.shutdown()
            raise failure
        for index, start in enumerate(starts):
            self._idle.put(_Slot(index, start.result()))

    @property
    def size(self) -> int:
        return self._size

    def run(self, request: dict, timeout_s: float) -> dict:
        """The fork server's reply to `request`; raises WorkerLost if its worker died or hung."""
        if self._closed:
            raise RuntimeError("the sandbox is closed")
        slot = self._idle.get()
        try:
            if slot.worker is None:
                slot.worker = self._start_worker(slot.index)
            try:
                reply = slot.worker.run(request, timeout_s)
            except WorkerLost as lost:
                diagnostics = slot.worker.diagnostics()
                self._retire(slot)
                raise WorkerLost(f"{lost}\n{diagnostics}".strip(), timed_out=lost.timed_out) from None
            if reply.get("retire"):
                self._retire(slot)
            return reply
        finally:
            self._idle.put(slot)

    def close(self) -> None:
        """Stop every worker; waits for jobs in flight to finish."""
        if self._closed:
            return
        self._closed = True
        for _ in range(self._size):
            slot = self._idle.get()
            if slot.worker is not None:
                self._retire(slot)
        self._starter.shutdown()

    @staticmethod
    def _retire(slot: _Slot) -> None:
        slot.worker.close()
        slot.worker = None
