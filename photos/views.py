"""The original photo bridge's /queue/ routes, a thin layer on the job engine.

Users submit and follow the analysis of their own photos and sessions, and
see, cancel and retry the photos jobs they submitted; unknown or foreign
ids answer 404. Operations (stats, workers, pause, resume, purge) are for
staff. Task states come from jobs.task_states, the one mapping every route
uses. The original's queue names (high_priority, medium_priority,
low_priority) are accepted wherever a queue is named.
"""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs import task_states
from jobs.models import ProcessingJob
from photos import selectors
from photos import services
from photos.api import queue_serializers as q
from photos.models import Photo
from photos.models import PhotoSession
from photos.services.queue import ORIGINAL_QUEUE_NAMES
from photos.services.queue import PHOTO_QUEUES

TAGS = ["photos: original /queue/ routes"]


class QueueView(APIView):
    """Authenticated users, for their own photos and jobs; limited per user."""

    permission_classes = [IsAuthenticated]
    ratelimit_scope = "photos_queue"

    def ratelimit_rate(self) -> str:
        return settings.PHOTOS_RATE_LIMITS["queue"]


class QueueOperatorView(QueueView):
    """Staff only (anonymous 401, other users 403)."""

    permission_classes = [IsAdminUser]


def _job_or_404(request: Request, task_id: str) -> ProcessingJob:
    job = selectors.photo_job_for_task_id(user=request.user, task_id=task_id)
    if job is None:
        raise NotFound(f"no task {task_id!r}")
    return job


def _queued(job: ProcessingJob) -> dict[str, Any]:
    return {
        "task_id": job.task_id,
        "job_id": str(job.id),
        "state": task_states.job_task_state(job),
        "queue": job.queue,
        "priority": job.priority,
    }


def _batch(submission: services.BatchSubmission) -> dict[str, Any]:
    return {
        "submitted": len(submission.jobs),
        "task_ids": [job.task_id for job in submission.jobs],
        "photo_ids": [photo.pk for photo in submission.photos],
        "already_queued": {
            str(photo_id): job.task_id
            for photo_id, job in submission.already_active.items()
        },
    }


class QueueSubmitView(QueueView):
    @extend_schema(
        request=q.QueueSubmitSerializer,
        responses={202: q.QueueSubmittedSerializer},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        """Queue a photo's analysis; priority 9 when user-requested, else by its score."""
        incoming = q.QueueSubmitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            photo = selectors.photo_get(user=request.user, photo_id=data["photo_id"])
        except Photo.DoesNotExist:
            raise NotFound(f"no photo {data['photo_id']}") from None
        job, created = services.photo_submit(
            photo=photo,
            user_requested=data["user_requested"],
            config=data.get("config"),
            submitted_by=request.user,
        )
        answer = {**_queued(job), "photo_id": photo.pk, "created": created}
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class QueueBatchView(QueueView):
    @extend_schema(
        request=q.QueueBatchSerializer,
        responses={202: q.QueueBatchSubmittedSerializer},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        """Queue many photos' analysis in one transaction (all or none: unknown ids 404)."""
        incoming = q.QueueBatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            photos = selectors.photo_list_for_ids(
                user=request.user, photo_ids=data["photo_ids"]
            )
        except Photo.DoesNotExist as exc:
            raise NotFound(str(exc)) from None
        submission = services.photos_submit_batch(
            photos=photos, priority=data.get("priority"), submitted_by=request.user
        )
        return Response(_batch(submission), status=status.HTTP_202_ACCEPTED)


class QueueSessionView(QueueView):
    @extend_schema(
        request=q.QueueSessionSerializer,
        responses={202: q.QueueSessionSubmittedSerializer},
        tags=TAGS,
    )
    def post(self, request: Request, session_id: str) -> Response:
        """Queue the analysis of every photo of a session in one transaction."""
        incoming = q.QueueSessionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            session = selectors.session_get(
                user=request.user, session_id=int(session_id)
            )
        except (PhotoSession.DoesNotExist, ValueError):
            raise NotFound(f"no session {session_id}") from None
        auto_select = incoming.validated_data["auto_select"]
        submission = services.session_submit(
            session=session, auto_select=auto_select, submitted_by=request.user
        )
        answer = {
            "session_id": session.pk,
            "auto_select": auto_select,
            **_batch(submission),
        }
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class QueueStatusView(QueueView):
    @extend_schema(responses=q.QueueTaskStatusSerializer, tags=TAGS)
    def get(self, request: Request, task_id: str) -> Response:
        """A photos job's task state, progress, result or error (jobs.task_states)."""
        return Response(task_states.job_task_status(_job_or_404(request, task_id)))


class QueueCancelView(QueueView):
    @extend_schema(request=None, responses=q.QueueTaskChangedSerializer, tags=TAGS)
    def post(self, request: Request, task_id: str) -> Response:
        """Cancel a queued or running job (409 when it already finished)."""
        job = _job_or_404(request, task_id)
        job = job_services.job_cancel(job_id=job.id, cancelled_by=request.user)
        return Response({**_queued(job), "status": "cancelled"})


class QueueRetryView(QueueView):
    @extend_schema(request=None, responses=q.QueueTaskChangedSerializer, tags=TAGS)
    def post(self, request: Request, task_id: str) -> Response:
        """Run a failed or cancelled job again (409 otherwise); it gets a new task id."""
        job = _job_or_404(request, task_id)
        job = job_services.job_retry(job_id=job.id, retried_by=request.user)
        answer = {**_queued(job), "status": "queued", "previous_task_id": task_id}
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class QueueFailedView(QueueView):
    @extend_schema(
        parameters=[q.QueueFailedQuerySerializer],
        responses=q.QueueFailedSerializer,
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        """Failed photos jobs (the user's own; staff: all), newest first."""
        query = q.QueueFailedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = list(
            selectors.photo_jobs_failed(
                user=request.user, limit=query.validated_data["limit"]
            )
        )
        failed = [q.failed_job(job) for job in jobs]
        return Response({"failed_jobs": failed, "count": len(failed)})


class QueueStatsView(QueueOperatorView):
    @extend_schema(responses=q.QueueStatsSerializer, tags=TAGS)
    def get(self, request: Request) -> Response:
        """Running and waiting jobs of the three photo queues, and jobs by status."""
        queues = {
            queue["name"]: queue
            for queue in job_selectors.queue_list()
            if queue["name"] in PHOTO_QUEUES
        }
        by_status: dict[str, int] = dict.fromkeys(ProcessingJob.Status.values, 0)
        for name in PHOTO_QUEUES:
            for key, count in job_selectors.job_counts_by_status(queue=name).items():
                by_status[key] += count
        return Response(q.stats_answer(queues, by_status))


class QueueWorkersView(QueueOperatorView):
    @extend_schema(responses=q.QueueWorkersSerializer, tags=TAGS)
    def get(self, request: Request) -> Response:
        """Live workers with their queues and active and reserved tasks."""
        workers = job_selectors.worker_list()
        return Response(
            {
                "workers": workers,
                "total_workers": len(workers),
                "active_tasks": sum(len(worker["active"]) for worker in workers),
            }
        )


class QueuePauseView(QueueOperatorView):
    @extend_schema(
        request=q.QueueNameSerializer, responses=q.QueuesChangedSerializer, tags=TAGS
    )
    def post(self, request: Request) -> Response:
        """Pause one photo queue, or all three (other apps' jobs in them wait too)."""
        name = q.queue_name(request.data)
        queues = services.photo_queues_pause(queue_name=name, paused_by=request.user)
        return Response(q.queues_changed("paused", queues))


class QueueResumeView(QueueOperatorView):
    @extend_schema(
        request=q.QueueNameSerializer, responses=q.QueuesChangedSerializer, tags=TAGS
    )
    def post(self, request: Request) -> Response:
        """Resume one photo queue, or all three."""
        queues = services.photo_queues_resume(queue_name=q.queue_name(request.data))
        return Response(q.queues_changed("resumed", queues))


class QueuePurgeView(QueueOperatorView):
    @extend_schema(
        request=q.QueueNameSerializer, responses=q.QueuePurgedSerializer, tags=TAGS
    )
    def post(self, request: Request) -> Response:
        """Cancel the waiting photos jobs of one queue, or of all three."""
        purged = services.photo_jobs_purge(
            queue_name=q.queue_name(request.data), purged_by=request.user
        )
        answer = {
            **purged,
            "queue_names": [ORIGINAL_QUEUE_NAMES[name] for name in purged["queues"]],
        }
        return Response(answer)
