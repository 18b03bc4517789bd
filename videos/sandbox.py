"""Decoding of untrusted videos in a forked child: capped memory, a deadline, no shared fate.

FFmpeg's decoders are C code fed whatever a user uploaded. In a child
process whose address space is capped (RLIMIT_AS), a file that makes a
decoder crash, loop or allocate without end costs only the child: the web or
worker process that asked gets a typed VideoError and carries on. The child
dies with its parent (PR_SET_PDEATHSIG), so a cancelled or killed job leaves
no decoder behind.

The child speaks in frames over a pipe: a JSON header and an optional raw
payload (a JPEG). Nothing it sends is unpickled, so even a decoder subverted
by a crafted file cannot run code in the parent.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import resource
import select
import signal
import struct
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from videos import errors
from videos.ffmpeg import die_with_parent

Message = dict[str, Any]
Emit = Callable[..., None]  # emit(message, payload=b"")
_HEADER = struct.Struct("!II")
READ_CHUNK_BYTES = 1 << 20
# Errors the child may name; anything else arrives as CorruptVideo.
_ERRORS = {
    cls.__name__: cls
    for cls in (
        errors.UnsupportedVideo,
        errors.CorruptVideo,
        errors.VideoLimitExceeded,
        errors.TranscodeFailed,
        errors.Cancelled,
    )
}


def run(
    task: Callable[[Emit], None], *, timeout_s: float, memory_bytes: int
) -> Iterator[tuple[Message, bytes]]:
    """Run `task(emit)` in a child; yield each (message, payload) it emits, in order.

    Raises the VideoError the task raised, DecoderTimeout past `timeout_s`,
    CorruptVideo if the child died without finishing. Closing the generator
    early (a cancelled job) kills the child.
    """
    read_fd, write_fd = os.pipe()
    parent_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
        os.close(read_fd)
        _child(task, write_fd, memory_bytes, parent_pid)
    os.close(write_fd)
    deadline = time.monotonic() + timeout_s
    finished = False
    try:
        while True:
            frame = _read_frame(read_fd, deadline, timeout_s)
            if frame is None:
                break
            message, payload = frame
            if message["type"] == "end":
                finished = True
                break
            if message["type"] == "error":
                error = _ERRORS.get(message["error"], errors.CorruptVideo)
                raise error(message["detail"], **message.get("extra", {}))
            yield message, payload
    finally:
        os.close(read_fd)
        status = _reap(pid, finished)
    if not finished:
        raise errors.CorruptVideo(
            f"The decoder stopped on this file ({_how(status)}); it is damaged or "
            "needs more than the memory allowed."
        )


def run_to_end(
    task: Callable[[Emit], None], *, timeout_s: float, memory_bytes: int
) -> list[tuple[Message, bytes]]:
    """`run`, collecting every message."""
    return list(run(task, timeout_s=timeout_s, memory_bytes=memory_bytes))


def _child(
    task: Callable[[Emit], None], write_fd: int, memory_bytes: int, parent_pid: int
) -> None:
    code = 0
    try:
        # Handlers inherited from the parent (a worker's SIGTERM cleanup,
        # Celery's soft time limit) are the parent's business.
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(number, signal.SIG_DFL)
        # A crash is reported through the pipe's end, not as a dump on the
        # parent's stderr.
        faulthandler.disable()
        die_with_parent(parent_pid)()
        _cap_memory(memory_bytes)

        def emit(message: Message, payload: bytes = b"") -> None:
            _write_frame(write_fd, message, payload)

        try:
            task(emit)
        except errors.VideoError as error:
            emit(
                {
                    "type": "error",
                    "error": type(error).__name__,
                    "detail": error.detail,
                    "extra": error.extra,
                }
            )
        except MemoryError:
            emit(
                {
                    "type": "error",
                    "error": "VideoLimitExceeded",
                    "detail": "Decoding this video needs more memory than allowed.",
                    "extra": {"limit": "memory"},
                }
            )
        except Exception as error:
            emit(
                {
                    "type": "error",
                    "error": "CorruptVideo",
                    "detail": f"The video cannot be read: {type(error).__name__}: {error}",
                }
            )
        emit({"type": "end"})
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _cap_memory(memory_bytes: int) -> None:
    """Allow the child `memory_bytes` of address space beyond what it inherited."""
    inherited = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    inherited = int(line.split()[1]) * 1024
    except OSError:
        return
    if inherited:
        limit = inherited + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _write_frame(fd: int, message: Message, payload: bytes) -> None:
    header = json.dumps(message).encode()
    for part in (_HEADER.pack(len(header), len(payload)) + header, payload):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]


def _read_frame(
    fd: int, deadline: float, timeout_s: float
) -> tuple[Message, bytes] | None:
    sizes = _read_exact(fd, _HEADER.size, deadline, timeout_s)
    if sizes is None:
        return None
    header_size, payload_size = _HEADER.unpack(sizes)
    header = _read_exact(fd, header_size, deadline, timeout_s)
    payload = (
        _read_exact(fd, payload_size, deadline, timeout_s) if payload_size else b""
    )
    if header is None or payload is None:
        return None
    return json.loads(header), payload


def _read_exact(fd: int, size: int, deadline: float, timeout_s: float) -> bytes | None:
    chunks = []
    while size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise errors.DecoderTimeout(
                f"Reading the video took longer than {timeout_s:g} s."
            )
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, min(size, READ_CHUNK_BYTES))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _reap(pid: int, finished: bool) -> int:
    """Wait for the child, killing it unless it finished; its wait status."""
    if finished:
        for _ in range(200):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            time.sleep(0.005)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"
