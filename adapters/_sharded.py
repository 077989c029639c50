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
import itertools
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters._errors import LLMError, ProviderError
from adapters._frames import MAX_FRAME, frame, read_frame
from adapters._pricing import PriceTable, UsageMeter
from adapters._types import Completion, CompletionRequest, LLMAdapter, T, Usage

Recipe = Callable[[], LLMAdapter]


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process
    pending: dict[int, asyncio.Future[tuple[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    exit_reason: str | None = None


class ShardedAdapter:
    """An adapter whose requests are served by ``workers`` processes, each building its stack with ``recipe``.

    ``recipe`` must be picklable (a module-level function or a
    :func:`functools.partial` of one, e.g. ``partial(build_adapter, "openai")``),
    and so must the requests' schemas (module-level pydantic classes). Workers
    start on the first request and inherit the environment (keys, base URLs);
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

    def __repr__(self) -> str:
        return f"ShardedAdapter(workers={self.size})"

    async def start(self, preload: tuple[object, ...] = ()) -> None:
        """Start the workers now rather than on the first request, and wait until each has built its adapter.

        ``preload``: picklable objects (e.g. the schema classes requests will use)
        sent ahead, so the workers import their modules now, not during the first request.
        """
        await self._spawned()
        blob = pickle.dumps(tuple(preload), pickle.HIGHEST_PROTOCOL)
        try:
            replies = await asyncio.wait_for(
                asyncio.gather(*(self._exchange(w, next(self._ids), blob) for w in self._workers)),
                self.start_timeout,
            )
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
        text, input_tokens, output_tokens, cost, latency, repaired, attempts = payload
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
        )

    async def aclose(self, timeout: float = 10.0) -> None:
        """Stop the workers (their adapters close their connections) and wait for them."""
        self._closed = True
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
