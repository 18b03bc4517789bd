"""Input validation and output shapes of the job engine's API."""

from typing import Any

from celery import states
from celery.result import AsyncResult
from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs import task_states
from jobs.context import progress_percent
from jobs.job_types import job_type_get
from jobs.job_types import job_type_list
from jobs.models import ProcessingJob

# JOBS ---------------------------------------------------------------------


class JobTargetSerializer(serializers.Serializer):
    type = serializers.CharField(
        help_text="The target's content type, 'app_label.model'."
    )
    id = serializers.CharField(help_text="The target's primary key.")


class ProcessingJobSerializer(serializers.ModelSerializer):
    error = serializers.CharField(source="error_message", read_only=True)
    target = serializers.SerializerMethodField()
    submitted_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    duration_s = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = ProcessingJob
        fields = [
            "id",
            "job_type",
            "status",
            "queue",
            "priority",
            "progress",
            "progress_message",
            "attempts",
            "max_retries",
            "params",
            "result",
            "error",
            "worker",
            "target",
            "queued_at",
            "started_at",
            "completed_at",
            "heartbeat_at",
            "duration_s",
            "attempt_log",
            "submitted_by",
        ]
        read_only_fields = fields

    @extend_schema_field(JobTargetSerializer(allow_null=True))
    def get_target(self, job: ProcessingJob) -> dict[str, str] | None:
        if job.content_type_id is None:
            return None
        # get_for_id is cached per process: no query per row of a list.
        content_type = ContentType.objects.get_for_id(job.content_type_id)
        return {
            "type": f"{content_type.app_label}.{content_type.model}",
            "id": job.object_id,
        }


class ProcessingJobSubmitSerializer(serializers.Serializer):
    job_type = serializers.CharField(max_length=100)
    params = serializers.DictField(required=False, default=dict)
    priority = serializers.IntegerField(
        min_value=0, max_value=9, required=False, help_text="0-9, 9 is the most urgent."
    )
    queue = serializers.CharField(max_length=64, required=False)
    idempotency_key = serializers.CharField(
        max_length=255,
        required=False,
        help_text="A replay with the same key returns the active or completed job it names.",
    )

    def validate_job_type(self, value: str) -> str:
        submittable = [spec.name for spec in job_type_list() if spec.staff_submittable]
        try:
            spec = job_type_get(value)
        except KeyError:
            raise serializers.ValidationError(
                f"unknown job type {value!r}; submittable types: {', '.join(submittable)}"
            ) from None
        if not spec.staff_submittable:
            raise serializers.ValidationError(
                f"job type {value!r} cannot be submitted through the API; "
                f"submittable types: {', '.join(submittable)}"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        params_serializer = job_type_get(attrs["job_type"]).params_serializer
        if params_serializer is not None:
            params = params_serializer(data=attrs.get("params", {}))
            if not params.is_valid():
                raise serializers.ValidationError({"params": params.errors})
        return attrs


class ProcessingJobBatchItemSerializer(ProcessingJobSubmitSerializer):
    idempotency_key = None  # one key cannot name a batch's many jobs


BATCH_MAX_JOBS = 1000


class ProcessingJobBatchSubmitSerializer(serializers.Serializer):
    jobs = ProcessingJobBatchItemSerializer(
        many=True, min_length=1, max_length=BATCH_MAX_JOBS
    )


class ProcessingJobBatchResultSerializer(serializers.Serializer):
    submitted = serializers.IntegerField()
    job_ids = serializers.ListField(child=serializers.UUIDField())


class JobFailedQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)


class JobTypeStatsSerializer(serializers.Serializer):
    job_type = serializers.CharField()
    total = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)
    failure_rate = serializers.FloatField(allow_null=True)
    avg_duration_s = serializers.FloatField(allow_null=True)


# QUEUES AND WORKERS -------------------------------------------------------


class QueueSerializer(serializers.Serializer):
    name = serializers.CharField()
    paused = serializers.BooleanField()
    waiting = serializers.IntegerField(
        help_text="Jobs queued or retrying in the database (the record)."
    )
    in_broker = serializers.IntegerField(
        allow_null=True,
        help_text="Messages still in Redis; null when Redis is unreachable.",
    )
    reserved = serializers.IntegerField(
        help_text="Messages workers took but have not started (prefetch, retry countdowns)."
    )
    running = serializers.IntegerField(help_text="Jobs of this queue running now.")
    awaiting_resend = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "Waiting jobs with no message anywhere (Redis lost it, or `celery purge`): "
            "the watchdog sends them again."
        ),
    )
    consumers = serializers.ListField(
        child=serializers.CharField(), help_text="Live workers consuming this queue."
    )
    unconsumed = serializers.BooleanField(
        help_text="Jobs are waiting and no live worker consumes the queue."
    )


class QueuePurgeSerializer(serializers.Serializer):
    queue = serializers.CharField()
    cancelled = serializers.IntegerField(
        help_text="Waiting jobs cancelled by the purge."
    )


class JobStatsSerializer(serializers.Serializer):
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_type = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField())
    )
    types = JobTypeStatsSerializer(many=True)
    queues = QueueSerializer(many=True)


class WorkerTaskSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    job_id = serializers.CharField(allow_null=True)
    kwargs = serializers.JSONField(allow_null=True)
    worker_pid = serializers.IntegerField(allow_null=True)
    time_start = serializers.FloatField(allow_null=True)


class WorkerSerializer(serializers.Serializer):
    name = serializers.CharField()
    pid = serializers.IntegerField(allow_null=True)
    queues = serializers.ListField(
        child=serializers.CharField(), help_text="Queues consumed now."
    )
    pool_size = serializers.IntegerField(allow_null=True)
    prefetch_multiplier = serializers.IntegerField(allow_null=True)
    seen_at = serializers.FloatField(
        allow_null=True, help_text="Unix time of the worker's last presence beat."
    )
    active = WorkerTaskSerializer(many=True)
    reserved = WorkerTaskSerializer(many=True)


# TASK STATUS --------------------------------------------------------------


class TaskProgressSerializer(serializers.Serializer):
    current = serializers.FloatField()
    total = serializers.FloatField()
    percent = serializers.IntegerField()
    message = serializers.CharField(allow_blank=True)


class TaskStatusSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    job_id = serializers.CharField(
        allow_null=True,
        help_text="The job this task is a send of; null for a plain task.",
    )
    state = serializers.ChoiceField(choices=task_states.TASK_STATES)
    status = serializers.CharField(help_text="What the task is doing, in words.")
    current = serializers.FloatField()
    total = serializers.FloatField()
    progress = TaskProgressSerializer()
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    ready = serializers.BooleanField()
    successful = serializers.BooleanField()


def _progress(current: float, total: float, message: str = "") -> dict[str, Any]:
    return {
        "current": current,
        "total": total,
        "percent": progress_percent(current, total),
        "message": message,
    }


class JobTaskStatusSerializer(TaskStatusSerializer):
    """A job in Celery's task-state vocabulary, read from its row."""

    def to_representation(self, job: ProcessingJob) -> dict[str, Any]:
        status = task_states.job_task_status(job)
        # The job type's own fields (status_fields) pass through unchanged.
        return {**status, **super().to_representation(status)}


class TaskCancelSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    job_id = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(choices=task_states.TASK_STATES)
    status = serializers.CharField()
    message = serializers.CharField()


class AsyncResultTaskStatusSerializer(TaskStatusSerializer):
    """A plain Celery task's state as its result backend holds it."""

    def to_representation(self, task: AsyncResult) -> dict[str, Any]:
        state, info = task.state, task.info
        if state == states.SUCCESS:
            progress = _progress(100, 100)
        elif isinstance(info, dict) and "current" in info:
            progress = _progress(
                info.get("current") or 0,
                info.get("total") or 100,
                info.get("message") or "",
            )
        else:
            progress = _progress(0, 100)
        error = None
        if isinstance(info, BaseException):
            error = f"{type(info).__name__}: {info}"
        return super().to_representation(
            {
                "task_id": task.id,
                "job_id": None,
                "state": state,
                "status": state.capitalize(),
                "current": progress["current"],
                "total": progress["total"],
                "progress": progress,
                "result": info if state == states.SUCCESS else None,
                "error": error,
                "ready": state in states.READY_STATES,
                "successful": state == states.SUCCESS,
            }
        )


# AUTH ---------------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
