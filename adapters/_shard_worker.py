"""A worker process of :class:`~adapters.ShardedAdapter`: runs an adapter stack and answers over its pipes.

Started as ``python -m adapters._shard_worker``. Frames on stdin and stdout are a
4-byte big-endian length and a pickle. The first frame in is the parent's
``sys.path`` and the pickled recipe (a callable returning the adapter); then
``(id, pickled CompletionRequest)`` frames (pickled apart, so a request that
cannot be loaded fails alone), answered in any order with ``(id, "ok", result)`` or ``(id, "err",
exception)``; a tuple in place of a request is a ping (unpickling it loads the
modules its objects come from), answered ``(id, "ok", None)``; a
:class:`~adapters._frames.Warm` opens connections ahead of the first requests,
answered ``(id, "ok", connections opened)``.
End of input closes the adapter and ends the process. Anything
else the process prints goes to stderr, so it cannot corrupt the frames.
"""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import signal
import sys
import traceback
from typing import Any

from adapters._errors import LLMError, ProviderError
from adapters._frames import MAX_FRAME, Warm, frame, read_frame
from adapters._types import close_adapter, warm_adapter


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a ProviderError carrying its description."""
    if isinstance(exc, LLMError):
        try:
            pickle.dumps(exc)
            return exc
        except Exception:
            pass
    return ProviderError(f"{type(exc).__name__}: {exc}")


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    opening = await read_frame(reader)
    if opening is None:
        return
    path, recipe_blob = opening
    sys.path[:] = path  # import what the parent process can import
    adapter = pickle.loads(recipe_blob)()
    # The worker lives for one job: keep the collector off the SDK's start-up heap.
    gc.collect()
    gc.freeze()
    tasks: set[asyncio.Task[None]] = set()

    async def answer(rid: int, blob: bytes) -> None:
        try:
            request = pickle.loads(blob)
        except Exception as exc:
            writer.write(frame((rid, "err", ProviderError(f"the worker cannot load the request: {exc!r}"))))
            await writer.drain()
            return
        if isinstance(request, tuple):  # a ping (its payload, unpickled, has loaded its modules)
            writer.write(frame((rid, "ok", None)))
            await writer.drain()
            return
        if isinstance(request, Warm):
            try:
                opened = await warm_adapter(adapter, request.connections)
            except Exception:
                opened = 0
            writer.write(frame((rid, "ok", opened)))
            await writer.drain()
            return
        try:
            c = await adapter.complete(request)
            message: tuple[Any, ...] = (
                rid,
                "ok",
                (
                    c.raw_text,
                    c.usage.input_tokens,
                    c.usage.output_tokens,
                    c.cost_usd,
                    c.latency_s,
                    c.repaired,
                    c.attempts,
                    c.rate_limited,
                ),
            )
        except Exception as exc:
            message = (rid, "err", _portable(exc))
        writer.write(frame(message))
        await writer.drain()

    try:
        while (item := await read_frame(reader)) is not None:
            rid, blob = item
            task = asyncio.create_task(answer(rid, blob))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await close_adapter(adapter)


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (kill -9 included); elsewhere, no-op.

    The end of input ends an idle worker anyway; this also ends one with a request in flight.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        return
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


async def _main(in_fd: int = 0, out_fd: int | None = None) -> None:
    """Serve the frames arriving on ``in_fd`` (stdin) with replies on ``out_fd`` (stdout's original)."""
    # Ctrl-C reaches the whole process group: the parent decides, and closes our input.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker would have the parent's handler
    if out_fd is None:
        out_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints from any library go to stderr, never into the frames
    sys.stdout = sys.stderr
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_FRAME)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(in_fd, "rb", 0))
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(out_fd, "wb", 0)
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    await serve(reader, writer)
    transport.close()


def forked(in_fd: int, out_fd: int, parent: int | None = None) -> None:
    """The body of a worker forked from its parent (:meth:`ShardedAdapter.fork`); never returns.

    The child has every module the parent had imported; it serves its pipes on an
    event loop of its own and leaves with ``os._exit``, so nothing of the parent's
    (buffers, exit handlers, the parent's loop) runs twice.
    """
    code = 0
    try:
        # What the parent had is there to stay: keep the collector from walking (and so copying) it.
        gc.freeze()
        signal.set_wakeup_fd(-1)  # the parent's event loop must not hear of this process's signals
        if parent is not None:
            die_with_parent(parent)
        asyncio.run(_main(in_fd, out_fd))
    except BaseException:
        code = 1
        traceback.print_exc()
    finally:
        os._exit(code)


if __name__ == "__main__":
    die_with_parent(os.getppid())
    asyncio.run(_main())
