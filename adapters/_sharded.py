"""Spread LLM requests over worker processes, each running its own adapter stack.

Each provider SDK spends about a millisecond or two of CPU on every request
(building it, its HTTP exchange, reading the answer). With hundreds of agents
calling at once on one event loop that CPU, not the provider's latency, sets the
pace; worker processes put the other cores to work. Requests and answers cross
the process boundary as pickles over the workers' pipes; the answer's text is
validated again here against the request's schema, usage and cost are counted
in this process's meter, and errors arrive as the same typed :class:`LLMError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters._errors import LLMError, ProviderError
from adapters._frames import MAX_FRAME, Warm, frame, read_frame
from adapters._pricing import PriceTable, UsageMeter
from adapters._types import Completion, CompletionRequest, LLMAdapter, T, Usage

Recipe = Callable[[], LLMAdapter]


_PIPES: set[int] = set()
"""This process's ends of the pipes to its forked workers: a worker forked later closes them all,
so that each worker's input ends (and the worker with it) when this process closes its end."""


class _Forked:
    """A forked worker, seen through the part of ``asyncio.subprocess.Process`` the adapter uses."""

    def __init__(
        self,
        pid: int,
        stdin: asyncio.StreamWriter | None,
        stdout: asyncio.StreamReader | None,
        pipes: tuple[int, ...] = (),
    ) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.pipes = pipes
        self.returncode: int | None = None

    async def wait(self) -> int:
        while self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else
                self.returncode = -1
                break
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            else:
                await asyncio.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def can_fork() -> bool:
    """Whether forking workers from this process is safe now: Linux, one thread, no event loop running."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.active_count() != 1 or threading.current_thread() is not threading.main_thread():
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process | _Forked
    pending: dict[int, asyncio.Future[tuple[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    exit_reason: str | None = None


class ShardedAdapter:
    """An adapter whose requests are served by ``workers`` processes, each building its stack with ``recipe``.

    ``recipe`` must be picklable (a module-level function or a
    :func:`functools.partial` of one, e.g. ``partial(build_adapter, "openai")``),
    and so must the requests' schemas (module-level pydantic classes). Workers
    start on the first request (or with :meth:`spawn` / :meth:`start`) and inherit
    the environment (keys, base URLs);
    ``meter`` counts every answer's tokens and cost (priced by ``prices``);
    :meth:`aclose` stops them. A request goes to the worker with the fewest
    requests in flight. A worker that dies fails its requests with a
    :class:`ProviderError` naming it; the others carry on.
    """

    def __init__(
        self,
        recipe: Recipe,
        workers: int = 2,
        *,
        meter: UsageMeter | None = None,
        prices: PriceTable | None = None,
        python: str = sys.executable,
        start_timeout: float = 60.0,
    ) -> None:
        if workers < 1:
            raise ValueError("a sharded adapter needs at least one worker")
        try:
            self._recipe_frame = frame((list(sys.path), pickle.dumps(recipe, pickle.HIGHEST_PROTOCOL)))
        except Exception as exc:
            raise TypeError(f"the adapter recipe {recipe!r} cannot be pickled: {exc}") from None
        self.size = workers
        self.meter = meter or UsageMeter()
        self.prices = prices or PriceTable.default()
        self.python = python
        self.start_timeout = start_timeout
        self._workers: list[_Worker] = []
        self._ids = itertools.count()
        self._lock: asyncio.Lock | None = None
        self._closed = False
        self._setup: asyncio.Future[list[tuple[str, Any]]] | None = None
        self._forked: list[tuple[int, int, int]] = []  # (pid, fd to it, fd from it), not yet on a loop

    def __repr__(self) -> str:
        return f"ShardedAdapter(workers={self.size})"

    def fork(self) -> bool:
        """Start the workers now by forking this process, where that is safe; True if it did.

        A forked worker starts with every module this process has imported (the
        simulation's included), so it is ready sooner than a spawned one, which
        imports everything afresh; the SDK still loads in each worker, while this
        process sets up the run. Only on Linux, from a process with one thread
        and no event loop running (a command line before its loop starts, say);
        elsewhere nothing happens, and the workers are spawned when first needed.
        The workers then serve exactly as spawned ones do.
        """
        if self._workers or self._forked or self._closed or not can_fork():
            return False
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()  # nothing buffered here may be written twice
        parent = os.getpid()
        for _ in range(self.size):
            to_child, to_parent = os.pipe(), os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: keep only its own two pipe ends
                for fd in (to_child[1], to_parent[0], *_PIPES):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                from adapters._shard_worker import forked

                forked(to_child[0], to_parent[1], parent)  # never returns; dies with its parent
            os.close(to_child[0])
            os.close(to_parent[1])
            _PIPES.update((to_child[1], to_parent[0]))
            view = memoryview(self._recipe_frame)
            while view:
                view = view[os.write(to_child[1], view) :]
            self._forked.append((pid, to_child[1], to_parent[0]))
        return True

    async def spawn(self, preload: tuple[object, ...] = (), warm: int = 0) -> None:
        """Start the workers and send them their set-up, without waiting for them to be ready.

        ``warm``: connections to open ahead of the first requests, shared among the
        workers (each provider adapter asks for its model list, see
        :meth:`~adapters._provider.ProviderAdapter.warm`). ``preload``: picklable
        objects (e.g. the schema classes requests will use) sent ahead, so the
        workers import their modules now, not during the first request.
        :meth:`start` waits for both; calls after the first do nothing.
        """
        if self._setup is not None:
            return
        await self._spawned()
        per_worker = -(-warm // self.size) if warm > 0 else 0
        blobs = [pickle.dumps(Warm(per_worker), pickle.HIGHEST_PROTOCOL)] if per_worker else []
        # Connections first: their handshakes proceed while the worker imports the preloaded modules.
        blobs.append(pickle.dumps(tuple(preload), pickle.HIGHEST_PROTOCOL))
        futures = [self._send(w, next(self._ids), blob) for w in self._workers for blob in blobs]
        self._setup = asyncio.ensure_future(asyncio.gather(*futures))

    async def start(self, preload: tuple[object, ...] = (), warm: int = 0) -> None:
        """Start the workers now rather than on the first request, and wait until each has built its adapter.

        ``preload`` and ``warm`` as for :meth:`spawn` (which may have been called
        already, with the set-up that counts).
        """
        await self.spawn(preload, warm)
        assert self._setup is not None
        try:
            replies = await asyncio.wait_for(asyncio.shield(self._setup), self.start_timeout)
        except TimeoutError:
            raise ProviderError(
                f"the LLM worker processes did not get ready within {self.start_timeout:g} s"
            ) from None
        for status, payload in replies:
            if status != "ok":
                raise payload

    async def _spawned(self) -> None:
        """The workers, started if they are not yet (within ``start_timeout``)."""
        if self._workers:
            return
        try:
            await asyncio.wait_for(self._start(), self.start_timeout)
        except TimeoutError:
            raise ProviderError(
                f"the LLM worker processes did not start within {self.start_timeout:g} s"
            ) from None

    def _send(self, worker: _Worker, rid: int, blob: bytes) -> asyncio.Future[tuple[str, Any]]:
        """Send ``blob`` as request ``rid`` to ``worker`` now; the future gets its ``(status, payload)``."""
        return asyncio.ensure_future(self._exchange(worker, rid, blob))

    async def _exchange(self, worker: _Worker, rid: int, blob: bytes) -> tuple[str, Any]:
        """Send ``blob`` as request ``rid`` to ``worker`` and wait for its ``(status, payload)``."""
        future: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()
        worker.pending[rid] = future
        stdin = worker.process.stdin
        assert stdin is not None
        try:
            stdin.write(frame((rid, blob)))
            await stdin.drain()
            return await future
        except (BrokenPipeError, ConnectionResetError):
            code = worker.process.returncode
            raise ProviderError(
                worker.exit_reason or f"LLM worker process {worker.index} exited (code {code})"
            ) from None
        finally:
            worker.pending.pop(rid, None)

    async def _start(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._workers:
                return
            if self._forked:
                await self._attach_forked()
                return
            for index in range(self.size):
                process = await asyncio.create_subprocess_exec(
                    self.python,
                    "-m",
                    "adapters._shard_worker",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=MAX_FRAME,
                )
                assert process.stdin is not None
                process.stdin.write(self._recipe_frame)
                worker = _Worker(index, process)
                worker.reader = asyncio.create_task(self._read(worker))
                self._workers.append(worker)

    async def _attach_forked(self) -> None:
        """Put the forked workers' pipes on the running event loop."""
        loop = asyncio.get_running_loop()
        forked, self._forked = self._forked, []
        for index, (pid, writing, reading) in enumerate(forked):
            stdout = asyncio.StreamReader(limit=MAX_FRAME, loop=loop)
            await loop.connect_read_pipe(
                functools.partial(asyncio.StreamReaderProtocol, stdout), os.fdopen(reading, "rb", 0)
            )
            transport, protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, os.fdopen(writing, "wb", 0)
            )
            stdin = asyncio.StreamWriter(transport, protocol, None, loop)
            worker = _Worker(index, _Forked(pid, stdin, stdout, (writing, reading)))
            worker.reader = asyncio.create_task(self._read(worker))
            self._workers.append(worker)

    async def _read(self, worker: _Worker) -> None:
        stdout = worker.process.stdout
        assert stdout is not None
        try:
            while (item := await read_frame(stdout)) is not None:
                rid, status, payload = item
                future = worker.pending.pop(rid, None)
                if future is not None and not future.done():
                    future.set_result((status, payload))
        finally:
            code = await worker.process.wait()
            worker.exit_reason = f"LLM worker process {worker.index} exited (code {code})"
            for future in worker.pending.values():
                if not future.done():
                    future.set_result(("err", ProviderError(worker.exit_reason)))
            worker.pending.clear()

    def _pick(self) -> _Worker:
        alive = [w for w in self._workers if w.exit_reason is None]
        if not alive:
            reasons = "; ".join(w.exit_reason or "" for w in self._workers)
            raise ProviderError(f"no LLM worker process is running ({reasons})")
        return min(alive, key=lambda w: (len(w.pending), w.index))

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        if self._closed:
            raise ProviderError("the sharded adapter is closed")
        try:
            blob = pickle.dumps(request, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise TypeError(
                f"request for {request.schema.__qualname__} cannot be pickled (schemas sent to worker "
                f"processes must be module-level classes): {exc}"
            ) from None
        await self._spawned()
        started = time.perf_counter()
        status, payload = await self._exchange(self._pick(), next(self._ids), blob)
        if status != "ok":
            if isinstance(payload, LLMError):
                self.meter.failure(request.model)
            raise payload
        text, input_tokens, output_tokens, cost, latency, repaired, attempts, rate_limited = payload
        usage = Usage(input_tokens, output_tokens)
        self.meter.record(request.model, usage, cost, priced=self.prices.knows(request.model))
        return Completion(
            value=request.schema.model_validate_json(text),
            raw_text=text,
            usage=usage,
            cost_usd=cost,
            latency_s=max(latency, time.perf_counter() - started),
            model=request.model,
            attempts=attempts,
            repaired=repaired,
            rate_limited=rate_limited,
        )

    async def aclose(self, timeout: float = 10.0) -> None:
        """Stop the workers (their adapters close their connections) and wait for them."""
        self._closed = True
        setup, self._setup = self._setup, None
        if setup is not None:
            setup.cancel()
            await asyncio.gather(setup, return_exceptions=True)
        for pid, writing, reading in self._forked:  # forked, never put on a loop: end of input ends them
            os.close(writing)
            os.close(reading)
            _PIPES.difference_update((writing, reading))
            await _Forked(pid, None, None).wait()
        self._forked = []
        workers, self._workers = self._workers, []
        for worker in workers:
            stdin = worker.process.stdin
            if stdin is not None and not stdin.is_closing():
                stdin.close()
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), timeout)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()
            if worker.reader is not None:
                await asyncio.gather(worker.reader, return_exceptions=True)
            if isinstance(worker.process, _Forked):
                _PIPES.difference_update(worker.process.pipes)
