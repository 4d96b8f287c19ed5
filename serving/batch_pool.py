"""Helper processes that score part of each batch, so one batch uses more than one core.

Why: feature extraction is GIL-bound Python around numba kernels; two threads of one process
score only ~1.26x as fast as one. uvicorn's ``--workers`` processes use the other cores only
when the kernel happens to hand them connections, and with few crawler connections it often
hands two to the same worker while another idles. With ``FARMSCORE_BATCH_PROCESSES=N``
each API worker keeps N helper processes; a batch is cut into N + 1 contiguous chunks, the
helpers score N of them while the request's own thread scores the last, and the records come
back in page order, exactly as :func:`serving.batch.score_items` makes them.

Why processes are *spawned*, not forked: an API worker has threads (the event loop's pool,
LightGBM's OpenMP team) and uvicorn's signal handlers; a forked child inherits locks held by
threads that do not exist in it (a multi-threaded LightGBM predict hung so) and handlers that
keep it alive after the server is killed. A spawned helper starts clean, builds its own
scorer from the same settings, exits within a second of its parent's death, and leaves
Ctrl-C and SIGTERM to its parent, which shuts the pool down.

Costs: each helper holds its own scorer (~1 GB resident: reference tables and models) and starts
in a few seconds (numba kernels come from the on-disk cache). A chunk already sent to a
helper runs to its end when the request times out; the request's own chunk stops at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from serving.batch import WARMUP_TEXT, Item, score_items

log = logging.getLogger("farmscore.serving")

_scorer = None  # the helper process's own scorer (set by _init)


def _exit_with_parent(poll_s: float = 1.0) -> None:
    """Exit this process as soon as the process that spawned it is gone, however it ended
    (a SIGKILLed server does not shut its pool down). A watchdog thread polls the parent
    pid: once the parent dies the kernel re-parents us. (``PR_SET_PDEATHSIG`` would be
    quicker, but it fires when the parent *thread* that spawned us exits, and the pool
    spawns helpers from whichever request thread submits first.)"""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="farmscore-parent-watch", daemon=True).start()


def _init(index: str | None, index_preload: bool, max_chars: int) -> None:
    """Helper start-up: its own scorer, built like the API worker's, warmed up, frozen."""
    import gc

    global _scorer
    _exit_with_parent()
    # Ctrl-C or a SIGTERM to the whole process group reaches the parent too, which then
    # shuts the pool down; dying on our own would break it under requests still running
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from scoring.score import build_scorer

    if index and index_preload:
        from originality import open_index

        index = open_index(index, create=False, preload=True)
    _scorer = build_scorer(index=index, max_chars=max_chars)
    score_items(_scorer, [Item("text", "warmup", "text", WARMUP_TEXT)], False, False)
    gc.collect()
    gc.freeze()


def _ping() -> int:
    """The helper's pid once its scorer is built (a short wait lets every helper take one)."""
    time.sleep(0.05)
    return os.getpid() if _scorer is not None else 0


def _score_chunk(items: list[Item], explain: bool, include_text: bool) -> list[dict]:
    # one LightGBM thread: the helpers and the API worker already fill the cores
    return score_items(_scorer, items, explain, include_text, num_threads=1)


def chunks(n_items: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous (start, end) ranges covering ``range(n_items)``, sizes differing
    by at most one, none empty (fewer ranges when there are fewer items than parts)."""
    parts = max(1, min(parts, n_items))
    q, r = divmod(n_items, parts)
    out, start = [], 0
    for k in range(parts):
        end = start + q + (k < r)
        out.append((start, end))
        start = end
    return out


class BatchHelpers:
    """``processes`` helper processes shared by the batches of one API worker.

    Settings are plain attributes and nothing starts before :meth:`start` (called from the
    app's start-up thread), so the object is cheap to create and to test.
    """

    def __init__(self, processes: int, index: str | None = None, index_preload: bool = False,
                 max_chars: int = 1_000_000):
        self.processes = processes
        self.index = index
        self.index_preload = index_preload
        self.max_chars = max_chars
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.pids: list[int] = []  # the helpers' process ids, once started

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init,
                                   initargs=(self.index, self.index_preload, self.max_chars))

    def start(self, timeout_s: float = 300.0) -> None:
        """Spawn the helpers and wait until every one has built its scorer (blocking)."""
        self._pool = pool = self._new_pool()
        deadline = time.monotonic() + timeout_s
        seen: set[int] = set()
        while len(seen) < self.processes:  # pings until every helper has answered one
            pings = [pool.submit(_ping) for _ in range(self.processes)]
            for p in pings:
                pid = p.result(timeout=max(1.0, deadline - time.monotonic()))
                if not pid:
                    raise RuntimeError("a batch helper process started without a scorer")
                seen.add(pid)
            if time.monotonic() > deadline:
                raise TimeoutError(f"batch helpers not ready after {timeout_s:g} s")
        self.pids = sorted(seen)

    def score(self, scorer, items: list[Item], explain: bool, include_text: bool,
              cancelled=None, num_threads: int = 0) -> list[dict]:
        """:func:`serving.batch.score_items` of ``items``, the work shared with the helpers.

        If the helpers have died (a crashed or killed process breaks the pool), their chunks
        are scored here and the pool is started again, so a request never fails for it.
        """
        pool = self._pool
        spans = chunks(len(items), self.processes + 1)
        if pool is None or len(spans) < 2:
            return score_items(scorer, items, explain, include_text, cancelled, num_threads)
        *remote, local = spans
        futures: list[Future | None] = []
        for a, b in remote:
            try:
                futures.append(pool.submit(_score_chunk, items[a:b], explain, include_text))
            except (BrokenProcessPool, RuntimeError):
                futures.append(None)
        mine = score_items(scorer, items[local[0]:local[1]], explain, include_text, cancelled, 1)
        out: list[dict] = []
        broken = False
        for (a, b), fut in zip(remote, futures):
            try:
                if fut is None:
                    raise BrokenProcessPool("not submitted")
                out += fut.result()
            except BrokenProcessPool:
                broken = True
                out += score_items(scorer, items[a:b], explain, include_text, cancelled, 1)
        if broken:
            self._restart(pool)
        return out + mine

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        """Replace a broken pool (once, however many requests saw it break)."""
        with self._lock:
            if self._pool is not broken:
                return
            log.error("farmscore: a batch helper process died; starting new helpers")
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
