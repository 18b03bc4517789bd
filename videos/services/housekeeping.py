"""The periodic housekeeping of the videos app."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from videos.services.common import work_dirs_sweep
from videos.services.renditions import renditions_reconcile
from videos.services.uploads import uploads_expire
from videos.services.uploads import uploads_finish_stalled

# Scratch folders older than this were left by a killed process: a running
# job touches its own at least as often as ffmpeg writes.
WORK_DIR_STALE_S = 6 * 3600


def videos_housekeeping() -> dict[str, Any]:
    """Expire abandoned uploads, finish stalled ones, settle renditions, sweep stale scratch."""
    return {
        "uploads_expired": uploads_expire(),
        "uploads_finished": uploads_finish_stalled(),
        "renditions_settled": renditions_reconcile(),
        "work_dirs_removed": work_dirs_sweep(
            older_than_s=max(WORK_DIR_STALE_S, settings.VIDEOS_UPLOAD_EXPIRY_S / 4)
        ),
    }
