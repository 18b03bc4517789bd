"""Shapes of the original bridge's /queue/ routes: bodies in, answers out."""

from typing import Any

from rest_framework import serializers

from inputs.fields import RowIdField
from jobs import task_states
from jobs.models import ProcessingJob
from photos.services.queue import CONFIG_KEYS
from photos.services.queue import ORIGINAL_QUEUE_NAMES

MAX_BATCH = 1000


class QueueSubmitSerializer(serializers.Serializer):
    photo_id = RowIdField()
    user_requested = serializers.BooleanField(default=False)
    config = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=f"Optional; keys: {', '.join(CONFIG_KEYS)}",
    )


class QueueBatchSerializer(serializers.Serializer):
    photo_ids = serializers.ListField(
        child=RowIdField(),
        min_length=1,
        max_length=MAX_BATCH,
    )
    priority = serializers.IntegerField(
        min_value=0,
        max_value=9,
        required=False,
        allow_null=True,
        help_text="0-9; left out: each photo's priority from its score",
    )


class QueueSessionSerializer(serializers.Serializer):
    auto_select = serializers.BooleanField(
        default=True,
        help_text="Develop each photo with the preset its rules select once analysed",
    )


class QueueNameSerializer(serializers.Serializer):
    queue_name = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="high, medium, low or high_priority, medium_priority, low_priority; "
        "left out: all three",
    )


def queue_name(data: Any) -> str | None:
    """The queue named in a body, or None for all three photo queues."""
    incoming = QueueNameSerializer(data=data if data is not None else {})
    incoming.is_valid(raise_exception=True)
    return incoming.validated_data.get("queue_name") or None


class QueueFailedQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=50)


# ANSWERS --------------------------------------------------------------------


class _QueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    job_id = serializers.CharField()
    state = serializers.ChoiceField(choices=task_states.TASK_STATES)
    queue = serializers.CharField()
    priority = serializers.IntegerField()


class QueueSubmittedSerializer(_QueuedSerializer):
    photo_id = serializers.IntegerField()
    created = serializers.BooleanField(
        help_text="False: the analysis already queued or running is answered"
    )


class QueueBatchSubmittedSerializer(serializers.Serializer):
    submitted = serializers.IntegerField()
    task_ids = serializers.ListField(child=serializers.CharField())
    photo_ids = serializers.ListField(child=serializers.IntegerField())
    already_queued = serializers.DictField(child=serializers.CharField())


class QueueSessionSubmittedSerializer(QueueBatchSubmittedSerializer):
    session_id = serializers.IntegerField()
    auto_select = serializers.BooleanField()


class QueueTaskStatusSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    job_id = serializers.CharField()
    state = serializers.ChoiceField(choices=task_states.TASK_STATES)
    status = serializers.CharField()
    current = serializers.IntegerField()
    total = serializers.IntegerField()
    progress = serializers.DictField()
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    ready = serializers.BooleanField()
    successful = serializers.BooleanField()
    photo_id = serializers.IntegerField(required=False, allow_null=True)
    session_id = serializers.IntegerField(required=False, allow_null=True)
    export_id = serializers.IntegerField(required=False, allow_null=True)


class QueueTaskChangedSerializer(_QueuedSerializer):
    status = serializers.CharField()
    previous_task_id = serializers.CharField(required=False)


class FailedJobSerializer(serializers.Serializer):
    id = serializers.CharField()
    task_id = serializers.CharField()
    job_type = serializers.CharField()
    state = serializers.CharField()
    target_id = serializers.CharField(allow_null=True)
    queue = serializers.CharField()
    priority = serializers.IntegerField()
    attempts = serializers.IntegerField()
    error_message = serializers.CharField()
    queued_at = serializers.DateTimeField()
    failed_at = serializers.DateTimeField(allow_null=True)


def failed_job(job: ProcessingJob) -> dict[str, Any]:
    """A failed job as the original's failed list shows it."""
    return FailedJobSerializer(
        {
            "id": str(job.id),
            "task_id": job.task_id,
            "job_type": job.job_type,
            "state": task_states.job_task_state(job),
            "target_id": job.object_id or None,
            "queue": job.queue,
            "priority": job.priority,
            "attempts": job.attempts,
            "error_message": job.error_message,
            "queued_at": job.queued_at,
            "failed_at": job.completed_at,
        }
    ).data


class QueueFailedSerializer(serializers.Serializer):
    failed_jobs = FailedJobSerializer(many=True)
    count = serializers.IntegerField()


class QueueFiguresSerializer(serializers.Serializer):
    queue = serializers.CharField()
    waiting = serializers.IntegerField()
    running = serializers.IntegerField()
    in_broker = serializers.IntegerField(allow_null=True)
    paused = serializers.BooleanField()
    consumers = serializers.ListField(child=serializers.CharField())


class QueueStatsSerializer(serializers.Serializer):
    active_tasks = serializers.IntegerField()
    total_pending = serializers.IntegerField()
    jobs_by_status = serializers.DictField(child=serializers.IntegerField())
    queues = serializers.DictField(child=QueueFiguresSerializer())


def stats_answer(queues: dict[str, dict], by_status: dict[str, int]) -> dict[str, Any]:
    """The original's stats (active_tasks, total_pending, jobs_by_status) and each queue."""
    figures = {
        ORIGINAL_QUEUE_NAMES[name]: {
            "queue": name,
            "waiting": queue["waiting"],
            "running": queue["running"],
            "in_broker": queue["in_broker"],
            "paused": queue["paused"],
            "consumers": queue["consumers"],
        }
        for name, queue in queues.items()
    }
    return {
        "active_tasks": sum(queue["running"] for queue in queues.values()),
        "total_pending": sum(queue["waiting"] for queue in queues.values()),
        "jobs_by_status": by_status,
        "queues": figures,
    }


class QueueWorkersSerializer(serializers.Serializer):
    workers = serializers.ListField(child=serializers.DictField())
    total_workers = serializers.IntegerField()
    active_tasks = serializers.IntegerField()


class QueuesChangedSerializer(serializers.Serializer):
    status = serializers.CharField()
    queues = serializers.ListField(child=serializers.CharField())
    queue_names = serializers.ListField(child=serializers.CharField())


def queues_changed(state: str, queues: list[str]) -> dict[str, Any]:
    """Which queues a pause or resume touched, by our names and the original's."""
    return {
        "status": state,
        "queues": queues,
        "queue_names": [ORIGINAL_QUEUE_NAMES[name] for name in queues],
    }


class QueuePurgedSerializer(serializers.Serializer):
    purged = serializers.IntegerField(help_text="photos jobs cancelled")
    queues = serializers.ListField(child=serializers.CharField())
    queue_names = serializers.ListField(child=serializers.CharField())
