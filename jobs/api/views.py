"""The job engine's API: serializer -> service/selector -> Response. Staff only."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins
from rest_framework import status
from rest_framework import viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from jobs import selectors
from jobs import services
from jobs import task_states
from jobs.api import serializers
from jobs.api.filters import ProcessingJobFilter
from jobs.models import ProcessingJob

# AUTH ---------------------------------------------------------------------


class AuthTokenView(ObtainAuthToken):
    """Exchange a username and password for an API token."""

    # A stale session or token header must not block logging in.
    authentication_classes = ()

    @extend_schema(
        request=ObtainAuthToken.serializer_class,
        responses={200: serializers.TokenSerializer},
        auth=[],
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


# JOBS ---------------------------------------------------------------------


def _job_or_404(job_id: str) -> ProcessingJob:
    try:
        return selectors.job_get(job_id=job_id)
    except (ProcessingJob.DoesNotExist, DjangoValidationError):
        # A malformed UUID names no job either.
        raise NotFound(f"no job with id {job_id!r}") from None


@extend_schema(tags=["jobs"])
@extend_schema_view(
    list=extend_schema(summary="Jobs, newest first"),
    retrieve=extend_schema(summary="One job"),
)
class ProcessingJobViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = ProcessingJob.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [IsAdminUser]
    filterset_class = ProcessingJobFilter
    # Anything up to the next slash reaches the view, which answers a JSON 404.
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return selectors.job_list()

    def get_serializer_class(self):
        # The browsable API's form for POST shows the submit fields.
        if self.action == "create":
            return serializers.ProcessingJobSubmitSerializer
        if self.action == "batch":
            return serializers.ProcessingJobBatchSubmitSerializer
        return serializers.ProcessingJobSerializer

    def get_object(self) -> ProcessingJob:
        job = _job_or_404(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        self.check_object_permissions(self.request, job)
        return job

    @extend_schema(
        summary="Submit a job",
        request=serializers.ProcessingJobSubmitSerializer,
        responses={
            201: serializers.ProcessingJobSerializer,
            200: serializers.ProcessingJobSerializer,
        },
        description="201 with the new job; 200 with the job an idempotency key already names.",
    )
    def create(self, request):
        incoming = serializers.ProcessingJobSubmitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        job, created = services.job_submit_or_get(
            **incoming.validated_data, submitted_by=request.user
        )
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(serializers.ProcessingJobSerializer(job).data, status=answer)

    @extend_schema(
        summary="Submit up to 1,000 jobs in one transaction",
        request=serializers.ProcessingJobBatchSubmitSerializer,
        responses={201: serializers.ProcessingJobBatchResultSerializer},
        description=(
            "All or nothing: one invalid item rejects the batch (400 naming it). "
            "The messages are sent together once the jobs are committed."
        ),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def batch(self, request):
        incoming = serializers.ProcessingJobBatchSubmitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        jobs = services.job_submit_batch(
            items=incoming.validated_data["jobs"], submitted_by=request.user
        )
        answer = {"submitted": len(jobs), "job_ids": [job.id for job in jobs]}
        return Response(
            serializers.ProcessingJobBatchResultSerializer(answer).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Cancel an active job (409 if it already finished)", request=None
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = services.job_cancel(
            job_id=self.get_object().id, cancelled_by=request.user
        )
        return Response(self.get_serializer(job).data)

    @extend_schema(
        summary="Run a failed or cancelled job again (409 otherwise)", request=None
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = services.job_retry(job_id=self.get_object().id, retried_by=request.user)
        return Response(self.get_serializer(job).data)

    @extend_schema(
        summary="Counts by status and type, rates, queues",
        responses=serializers.JobStatsSerializer,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request):
        return Response(serializers.JobStatsSerializer(selectors.job_stats()).data)

    @extend_schema(
        summary="The dead-letter list: failed jobs, most recently failed first",
        parameters=[serializers.JobFailedQuerySerializer],
        responses=serializers.ProcessingJobSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def failed(self, request):
        query = serializers.JobFailedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = selectors.job_list_failed(limit=query.validated_data["limit"])
        return Response(self.get_serializer(jobs, many=True).data)


# QUEUES AND WORKERS -------------------------------------------------------

_queue_name = OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema(tags=["queues"])
@extend_schema_view(
    list=extend_schema(summary="Every known queue"),
    retrieve=extend_schema(
        summary="One queue (400 for an unknown name)", parameters=[_queue_name]
    ),
    pause=extend_schema(
        summary="Pause a queue on every worker", parameters=[_queue_name], request=None
    ),
    resume=extend_schema(
        summary="Resume a paused queue", parameters=[_queue_name], request=None
    ),
    purge=extend_schema(
        summary="Drop a queue's waiting messages and cancel their jobs",
        parameters=[_queue_name],
        request=None,
        responses=serializers.QueuePurgeSerializer,
    ),
)
class QueueViewSet(viewsets.ViewSet):
    """Queues are not rows: a plain ViewSet, read from selectors (both renderers work)."""

    serializer_class = serializers.QueueSerializer
    permission_classes = [IsAdminUser]
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def list(self, request):
        queues = selectors.queue_list()
        return Response(serializers.QueueSerializer(queues, many=True).data)

    def retrieve(self, request, name=None):
        queue = selectors.queue_get(name=name)
        return Response(serializers.QueueSerializer(queue).data)

    @action(detail=True, methods=["post"])
    def pause(self, request, name=None):
        services.queue_pause(queue=name, paused_by=request.user)
        queue = selectors.queue_get(name=name)
        return Response(serializers.QueueSerializer(queue).data)

    @action(detail=True, methods=["post"])
    def resume(self, request, name=None):
        services.queue_resume(queue=name)
        queue = selectors.queue_get(name=name)
        return Response(serializers.QueueSerializer(queue).data)

    @action(detail=True, methods=["post"])
    def purge(self, request, name=None):
        cancelled = services.queue_purge(queue=name, purged_by=request.user)
        purged = {"queue": name, "cancelled": cancelled}
        return Response(serializers.QueuePurgeSerializer(purged).data)


@extend_schema(tags=["workers"])
@extend_schema_view(
    list=extend_schema(summary="Workers answering within the inspect timeout")
)
class WorkerViewSet(viewsets.ViewSet):
    serializer_class = serializers.WorkerSerializer
    permission_classes = [IsAdminUser]

    def list(self, request):
        workers = selectors.worker_list()
        return Response(serializers.WorkerSerializer(workers, many=True).data)


# TASK STATUS --------------------------------------------------------------


_task_id = OpenApiParameter("task_id", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema(tags=["tasks"])
@extend_schema_view(
    retrieve=extend_schema(
        summary="A job's or task's state, progress and result",
        parameters=[_task_id],
        responses=serializers.TaskStatusSerializer,
    ),
    destroy=extend_schema(
        summary="Cancel a job or revoke a task (409 if it already finished)",
        parameters=[_task_id],
        responses={
            200: serializers.TaskCancelSerializer,
            202: serializers.TaskCancelSerializer,
        },
    ),
)
class TaskViewSet(viewsets.ViewSet):
    """Any job (by any of its task ids) or plain Celery task.

    Staff see every task; other users the jobs they submitted (e.g. their
    document uploads), and cancel those. Unknown or not visible: 404.
    """

    permission_classes = [IsAuthenticated]
    lookup_field = "task_id"
    lookup_value_regex = "[^/]+"

    def _job_or_404(self, request, task_id: str):
        job = selectors.job_for_task_id(task_id=task_id, user=request.user)
        if job is None and not request.user.is_staff:
            raise NotFound(f"no task {task_id!r}")
        return job

    def retrieve(self, request, task_id=None):
        job = self._job_or_404(request, task_id)
        if job is not None:
            return Response(serializers.JobTaskStatusSerializer(job).data)
        task = selectors.task_result_get(task_id=task_id)
        return Response(serializers.AsyncResultTaskStatusSerializer(task).data)

    def destroy(self, request, task_id=None):
        job = self._job_or_404(request, task_id)
        if job is not None:
            job = services.job_cancel(job_id=job.id, cancelled_by=request.user)
            answer = {
                "task_id": task_id,
                "job_id": str(job.id),
                "state": task_states.job_task_state(job),
                "status": "cancelled",
                "message": "Task has been cancelled",
            }
            return Response(serializers.TaskCancelSerializer(answer).data)
        selectors.task_result_get(task_id=task_id)
        task = services.task_revoke(task_id=task_id)
        answer = {
            "task_id": task.id,
            "job_id": None,
            "state": "REVOKED",
            "status": "cancelled",
            "message": "Task revoked; a running one is terminated",
        }
        return Response(
            serializers.TaskCancelSerializer(answer).data,
            status=status.HTTP_202_ACCEPTED,
        )
