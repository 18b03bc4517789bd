"""Run a parser in a forked child with a memory cap and a deadline.

PDF and DOCX parsers are C and XML code fed untrusted input: a compression
bomb or a parser bug can take gigabytes or loop. In a child whose address
space is capped (RLIMIT_AS) such a document kills only the child, and the
parent turns that into a typed error. The child speaks JSON frames (plus a
raw payload, e.g. a rendered page) over a pipe; nothing it sends is
unpickled, so even a subverted parser cannot run code in the worker.

The child never outlives its parent or its deadline: it asks the kernel
for SIGKILL when the forking process dies (a Celery pool process killed
by a cancel or a time limit), and its CPU time is capped at the deadline
(a parse loop that never writes to the pipe still ends).
"""

import ctypes
import faulthandler
import json
import math
import os
import resource
import select
import signal
import struct
import time
from collections.abc import Callable
from typing import Any

from documents.extraction.errors import ERRORS_BY_NAME
from documents.extraction.errors import CorruptDocument
from documents.extraction.errors import ExtractionError
from documents.extraction.errors import ExtractionTimeout
from documents.extraction.errors import ResourceLimitExceeded

Message = dict[str, Any]
Emit = Callable[[Message, bytes], None]
_HEADER = struct.Struct("!II")


class Deadline:
    """The time left for one extraction."""

    def __init__(self, time_limit_s: float) -> None:
        self.time_limit_s = time_limit_s
        self.ends_at = time.monotonic() + time_limit_s

    def remaining(self) -> float:
        left = self.ends_at - time.monotonic()
        if left <= 0:
            raise ExtractionTimeout(
                f"the document took longer than {self.time_limit_s:g} s to process"
            )
        return left


def run(
    task: Callable[[Emit], None],
    *,
    on_message: Callable[[Message, bytes], None],
    memory_bytes: int,
    deadline: Deadline,
    isolate: bool = True,
) -> None:
    """Run `task(emit)`, passing each emitted message to `on_message` in this process."""
    if not isolate or not hasattr(os, "fork"):
        task(on_message)
        return
    read_fd, write_fd = os.pipe()
    parent_pid = os.getpid()
    cpu_limit_s = math.ceil(deadline.remaining()) + 1
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
        os.close(read_fd)
        _child(task, write_fd, memory_bytes, parent_pid, cpu_limit_s)
    os.close(write_fd)
    finished = False
    try:
        finished = _relay(read_fd, on_message, deadline)
    finally:
        os.close(read_fd)
        status = _reap(pid, finished)
    if not finished:
        raise _crash_error(status, memory_bytes)


def _child(
    task: Callable[[Emit], None],
    write_fd: int,
    memory_bytes: int,
    parent_pid: int,
    cpu_limit_s: int,
) -> None:
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # A parser killed by its memory cap aborts; that is the expected
        # outcome here, not a crash report for the parent's stderr.
        faulthandler.disable()
        _die_with_parent(parent_pid)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit_s, cpu_limit_s + 1))
        _cap_memory(memory_bytes)

        def emit(message: Message, payload: bytes = b"") -> None:
            _write_frame(write_fd, message, payload)

        try:
            task(emit)
        except ExtractionError as error:
            emit(
                {"type": "error", "error": type(error).__name__, "message": str(error)}
            )
        except MemoryError:
            emit({"type": "error", "error": "ResourceLimitExceeded", "message": ""})
        except RecursionError:
            emit(
                {
                    "type": "error",
                    "error": "CorruptDocument",
                    "message": "too deeply nested",
                }
            )
        emit({"type": "end"})
    except BaseException:
        code = 1
    finally:
        os._exit(code)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe still ends it
        return
    # The parent may have died between fork() and prctl().
    if os.getppid() != parent_pid:
        os._exit(1)


def _cap_memory(memory_bytes: int) -> None:
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
    frame = _HEADER.pack(len(header), len(payload)) + header
    for part in (frame, payload):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]


def _relay(
    fd: int, on_message: Callable[[Message, bytes], None], deadline: Deadline
) -> bool:
    """Pass frames on until the child's "end"; False if the pipe closed before it."""
    while True:
        sizes = _read_exact(fd, _HEADER.size, deadline)
        if sizes is None:
            return False
        header_size, payload_size = _HEADER.unpack(sizes)
        header = _read_exact(fd, header_size, deadline)
        payload = _read_exact(fd, payload_size, deadline) if payload_size else b""
        if header is None or payload is None:
            return False
        message = json.loads(header)
        if message["type"] == "end":
            return True
        if message["type"] == "error":
            error = ERRORS_BY_NAME.get(message["error"], CorruptDocument)
            raise error(message["message"] or _memory_message())
        on_message(message, payload)


def _read_exact(fd: int, size: int, deadline: Deadline) -> bytes | None:
    chunks = []
    while size:
        ready, _, _ = select.select([fd], [], [], deadline.remaining())
        if not ready:
            deadline.remaining()
            continue
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _reap(pid: int, finished: bool) -> int:
    """Wait for the child, killing it unless it finished; returns its wait status."""
    if finished:
        for _ in range(100):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _crash_error(status: int, memory_bytes: int) -> ExtractionError:
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        return ExtractionTimeout("the parser used up its CPU time on the document")
    if os.WIFSIGNALED(status):
        how = f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        how = f"exit status {os.WEXITSTATUS(status)}"
    return ResourceLimitExceeded(
        f"{_memory_message(memory_bytes)} (the parser stopped with {how})"
    )


def _memory_message(memory_bytes: int | None = None) -> str:
    limit = f" of {memory_bytes // (1024 * 1024)} MiB" if memory_bytes else ""
    return f"the document needs more than the memory limit{limit} to parse"
