"""The pool's bookkeeping around lost and retiring workers, with scripted stand-in workers."""

from __future__ import annotations

import threading

import pytest

from sandbox.errors import SandboxUnavailable
from sandbox.worker import WorkerLost
from sandbox.worker_pool import WorkerPool


class ScriptedWorker:
    """Answers jobs in order; a job's `then` says what happens: "answer", "retire" or "die"."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.queued: list[dict] = []
        self.closed = False

    def send(self, request: dict) -> None:
        self.queued.append(request)

    def receive(self, deadline: float) -> dict:
        request = self.queued.pop(0)
        if request["then"] == "die":
            raise WorkerLost("killed")
        return {"job": request["job"], "worker": self.generation, "retire": request["then"] == "retire"}

    def diagnostics(self) -> str:
        return "scripted"

    def close(self) -> None:
        self.closed = True


class Starter:
    """Starts scripted workers, or fails once `failing` is set."""

    def __init__(self) -> None:
        self.workers: list[ScriptedWorker] = []
        self.failing = False
        self.lock = threading.Lock()

    def __call__(self, slot: int) -> ScriptedWorker:
        with self.lock:
            if self.failing:
                raise SandboxUnavailable("cannot start")
            self.workers.append(ScriptedWorker(len(self.workers)))
            return self.workers[-1]


def run_jobs(pool: WorkerPool, *thens: str) -> list:
    futures = [pool.submit({"job": index, "then": then}, timeout_s=5) for index, then in enumerate(thens)]
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result(timeout=5))
        except Exception as error:
            outcomes.append(error)
    return outcomes


def test_jobs_queued_behind_a_lost_worker_run_on_its_replacement():
    starter = Starter()
    pool = WorkerPool(starter, size=1)
    lost, after = run_jobs(pool, "die", "answer")
    pool.close()
    assert isinstance(lost, WorkerLost) and "scripted" in str(lost)
    assert after == {"job": 1, "worker": 1, "retire": False}
    assert starter.workers[0].closed and starter.workers[1].closed


def test_a_retiring_worker_is_replaced_and_its_queue_moves_on():
    starter = Starter()
    pool = WorkerPool(starter, size=1)
    outcomes = run_jobs(pool, "retire", "answer", "answer")
    pool.close()
    assert [outcome["worker"] for outcome in outcomes] == [0, 1, 1]


def test_when_no_worker_can_start_the_waiting_jobs_fail_with_the_reason():
    starter = Starter()
    pool = WorkerPool(starter, size=1)
    starter.failing = True
    lost, waiting = run_jobs(pool, "die", "answer")
    pool.close()
    assert isinstance(lost, WorkerLost)
    assert isinstance(waiting, SandboxUnavailable)


def test_a_pool_that_cannot_start_raises_and_a_closed_pool_refuses_jobs():
    starter = Starter()
    starter.failing = True
    with pytest.raises(SandboxUnavailable):
        WorkerPool(starter, size=2)
    pool = WorkerPool(Starter(), size=2)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit({}, timeout_s=1)
