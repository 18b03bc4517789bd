"""What the videos services share: job type names, limits, scratch space, storage names."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction

from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.errors import JobStateConflict
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from videos.errors import VideoError
from videos.probe import VideoLimits

logger = logging.getLogger("videos")

METADATA_JOB_TYPE = "videos.metadata"
THUMBNAIL_JOB_TYPE = "videos.thumbnail"
PROXY_JOB_TYPE = "videos.proxy"
ANALYZE_JOB_TYPE = "videos.analyze"
HOUSEKEEPING_JOB_TYPE = "videos.housekeeping"
# What a user's re-run asks for; the engine's 9 is the most urgent.
RERUN_PRIORITY = 8

EXTENSIONS = {
    "mp4": "mp4",
    "mov": "mov",
    "3gp": "3gp",
    "matroska": "mkv",
    "webm": "webm",
    "avi": "avi",
}


def video_limits() -> VideoLimits:
    """The configured limits of an accepted video (VIDEOS_MAX_*)."""
    return VideoLimits(
        max_size_bytes=settings.VIDEOS_MAX_UPLOAD_BYTES,
        max_duration_s=settings.VIDEOS_MAX_DURATION_S,
        max_width=settings.VIDEOS_MAX_WIDTH,
        max_height=settings.VIDEOS_MAX_HEIGHT,
        max_fps=settings.VIDEOS_MAX_FPS,
    )


def decoder_options() -> dict:
    """Time and memory of a sandboxed decoding child."""
    return {
        "timeout_s": settings.VIDEOS_DECODER_TIMEOUT_S,
        "memory_bytes": settings.VIDEOS_DECODER_MEMORY_BYTES,
    }


def video_folder(video_id) -> str:
    """The storage folder of everything belonging to one video."""
    return f"videos/{video_id}"


def permanent(error: VideoError) -> PermanentJobError:
    """A video error as a job error that is never retried, with a message a person can act on."""
    return PermanentJobError(f"{error.code}: {error.detail}")


@contextmanager
def work_dir(kind: str, key: object) -> Iterator[Path]:
    """A fresh local scratch folder named after what it is for; removed afterwards.

    The name comes from the upload or rendition id, so whatever a killed
    process left there is removed by the next run for the same thing.
    """
    path = Path(settings.VIDEOS_WORK_DIR) / kind / str(key)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def work_dirs_sweep(*, older_than_s: float) -> int:
    """Remove scratch folders untouched for `older_than_s` (left by killed processes)."""
    root = Path(settings.VIDEOS_WORK_DIR)
    removed = 0
    cutoff = time.time() - older_than_s
    for kind in root.glob("*"):
        for folder in kind.glob("*"):
            newest = max(
                (entry.stat().st_mtime for entry in folder.rglob("*")),
                default=folder.stat().st_mtime,
            )
            if newest < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed


class Interrupted(BaseException):
    """A SIGTERM arrived while a job ran: the stack unwinds (partial files go), then the process ends."""


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Make a SIGTERM unwind the stack before it ends the process.

    Cancelling a running job ends its process with SIGTERM. Celery's pool
    processes already turn it into SystemExit (billiard's handler), so
    finally-blocks run and no partial rendition stays. Where SIGTERM would
    end the process outright (its default: a command such as `jobs_drain`)
    it is turned into an exception here, and the process still ends, after
    the cleanup. A handler someone else installed is left alone.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def unwind(signum, frame):
        raise Interrupted()

    signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    except Interrupted:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        logger.warning("video_job_interrupted pid=%s: cleaned up, ending", os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def submit_once(
    *,
    job_type: str,
    target,
    params: dict | None = None,
    submitted_by=None,
    priority: int | None = None,
) -> tuple[ProcessingJob, bool]:
    """Queue a job of this type for the target unless one with the same params is active.

    An active one with the same params is returned; one with other params
    still waiting is cancelled (the newer request wins), one running is a
    JobStateConflict. The target's row is locked meanwhile, so two requests
    at once queue one job.
    """
    with transaction.atomic():
        type(target).objects.select_for_update().filter(pk=target.pk).first()
        active = job_selectors.job_latest_for_target(
            target=target, job_type=job_type, statuses=ProcessingJob.ACTIVE_STATUSES
        )
        if active is not None:
            if active.params == (params or {}):
                return active, False
            if active.status == ProcessingJob.Status.RUNNING:
                raise JobStateConflict(
                    f"a {job_type} job with other parameters is running ({active.id}); "
                    "ask again when it has finished"
                )
            # Still waiting, with other parameters: the newer request wins.
            job_services.job_cancel(job_id=active.id, cancelled_by=submitted_by)
        job = job_services.job_submit(
            job_type=job_type,
            target=target,
            params=params,
            submitted_by=submitted_by,
            priority=priority,
        )
        return job, True
