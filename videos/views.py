"""The original video system's route, kept: GET /jobs/{job_id}/status.

Its clients poll this after an upload (the answer's `processing_job_id`) until
the proxy is made. The shape is the original's: status (pending, running,
completed, failed: a cancelled job is failed, as the original's cancel did,
with the reason in `error`), progress (0-100), started, completed, duration
(s), error, and result (proxy path and metadata, for a proxy job). The
engine's own view of the job (Celery state, task id, attempts) is added.
Owners see the jobs of their videos, staff all; anything else is 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import task_states
from jobs.models import ProcessingJob
from videos import selectors
from videos.api.serializers import OriginalJobStatusSerializer

S = ProcessingJob.Status
ORIGINAL_STATUS = {
    S.QUEUED: "pending",
    S.RUNNING: "running",
    S.RETRYING: "running",
    S.COMPLETED: "completed",
    S.FAILED: "failed",
    S.CANCELLED: "failed",
}
ORIGINAL_JOB_TYPE = {
    "videos.proxy": "proxy_generation",
    "videos.analyze": "cv_analysis",
    "videos.metadata": "metadata_extraction",
    "videos.thumbnail": "thumbnail_generation",
}


def original_job_status(job: ProcessingJob, video_id) -> dict:
    """A job in the original /jobs/{id}/status shape."""
    return {
        "job_id": job.id,
        "job_type": ORIGINAL_JOB_TYPE.get(job.job_type, job.job_type),
        "video_id": video_id,
        "status": ORIGINAL_STATUS[job.status],
        "progress": 100 if job.status == S.COMPLETED else job.progress,
        "message": job.progress_message,
        "started": job.started_at,
        "completed": job.completed_at,
        "duration": job.duration_s,
        "error": job.error_message or None,
        "result": job.result if job.status == S.COMPLETED else None,
        "queued": job.queued_at,
        "state": task_states.job_task_state(job),
        "task_id": job.task_id or str(job.id),
        "attempts": job.attempts,
    }


class JobStatusView(APIView):
    """GET /jobs/{job_id}/status: a video job's status, in the original shape."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OriginalJobStatusSerializer)
    def get(self, request, job_id):
        job = selectors.video_job_get(job_id=job_id, user=request.user)
        video = selectors.video_for_job(job=job)
        answer = original_job_status(job, video.id if video else None)
        return Response(OriginalJobStatusSerializer(answer).data)
