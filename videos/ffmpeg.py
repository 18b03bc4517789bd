"""The ffmpeg command line as a child process: pinned input, progress, cancel, kill.

The binary is the static one of the imageio-ffmpeg wheel. The child dies
with the process that started it (PR_SET_PDEATHSIG, set before exec): a
worker killed mid-encode leaves no ffmpeg running. Cancelling, a time limit
or any exception in the caller (a Celery soft time limit) kill it at once.
"""

from __future__ import annotations

import ctypes
import functools
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable

from videos.errors import TranscodeCancelled
from videos.errors import TranscodeFailed
from videos.sniff import DEMUXERS

PR_SET_PDEATHSIG = 1
POLL_S = 0.1  # how often cancellation is checked while ffmpeg runs
STATS_PERIOD_S = 0.25
LOG_TAIL_CHARS = 2000
# The child needs no environment; an inherited FFREPORT would make it
# write log files wherever it points.
CHILD_ENV = {"LC_ALL": "C"}

ProgressCallback = Callable[[int, int], None]


@functools.cache
def ffmpeg_executable() -> str:
    """Path of the ffmpeg binary shipped in the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_input_args(path: str | os.PathLike, demuxer: str) -> list[str]:
    """Input options that keep ffmpeg to this one local file, read with the demuxer given."""
    if demuxer not in DEMUXERS:
        raise ValueError(f"Refusing to force the {demuxer!r} demuxer.")
    args = ["-protocol_whitelist", "file", "-f", demuxer]
    if demuxer == "mov":
        args += ["-enable_drefs", "0"]
    # The file: prefix stops a name like "http:x" or "concat:a|b" from
    # being read as a protocol.
    return [*args, "-i", f"file:{os.path.abspath(path)}"]


def progress_args() -> list[str]:
    """Options that make ffmpeg report its progress where `run` reads it."""
    return ["-nostats", "-progress", "pipe:1", "-stats_period", str(STATS_PERIOD_S)]


@functools.cache
def _prctl() -> Callable[..., int]:
    return ctypes.CDLL(None, use_errno=True).prctl


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A function for a forked child: it gets SIGKILL when `parent_pid` dies."""
    prctl = _prctl()  # looked up before fork: the child only calls it

    def set_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may have died before the line above ran.
        if os.getppid() != parent_pid:
            os._exit(1)

    return set_death_signal


def run(
    command: list[str],
    *,
    expected: int,
    on_progress: ProgressCallback | None,
    should_cancel: Callable[[], bool] | None,
    deadline: float | None,
) -> None:
    """Run ffmpeg to the end, reporting progress; kill it on cancel, timeout or any error."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=CHILD_ENV,
            preexec_fn=die_with_parent(os.getpid()),
            start_new_session=True,  # a terminal's Ctrl-C goes to the worker only
        )
        try:
            _follow(process, expected, on_progress, should_cancel, deadline)
            returncode = process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()
        if returncode != 0:
            log.seek(0)
            tail = log.read().decode("utf-8", "replace")[-LOG_TAIL_CHARS:].strip()
            raise TranscodeFailed(
                f"ffmpeg exited with status {returncode}: {tail or 'no message'}"
            )


def _follow(process, expected, on_progress, should_cancel, deadline) -> None:
    stdout = process.stdout.fileno()
    pending = b""
    reported = 0
    while True:
        if should_cancel and should_cancel():
            raise TranscodeCancelled("The transcode was cancelled.")
        if deadline is not None and time.monotonic() > deadline:
            raise TranscodeFailed("The transcode took longer than its time limit.")
        ready, _, _ = select.select([stdout], [], [], POLL_S)
        if not ready:
            continue
        chunk = os.read(stdout, 65536)
        if not chunk:
            return
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            key, _, value = line.partition(b"=")
            if key == b"frame" and value.strip().isdigit():
                # Kept below 100 % until the output is complete and in place.
                done = min(int(value), expected - 1)
                if done > reported and on_progress:
                    on_progress(done, expected)
                    reported = done
