"""Health: liveness for a load balancer (`/healthz`), readiness in depth (`/readyz`)."""

import redis
from celery import current_app
from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connection
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import broker
from jobs import selectors


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _redis() -> str:
    if not broker.ping():
        raise redis.RedisError("PING was not answered")
    return "ok"


def _workers_answering() -> str:
    replies = (
        current_app.control.inspect(timeout=settings.JOBS_INSPECT_TIMEOUT_S).ping()
        or {}
    )
    if not replies:
        raise LookupError("no worker answered a ping")
    return f"ok ({len(replies)})"


def _queues_consumed() -> str:
    unconsumed = [
        f"{queue['name']} ({queue['waiting']} waiting)"
        for queue in selectors.queue_list()
        if queue["unconsumed"]
    ]
    if unconsumed:
        raise LookupError(f"no worker consumes {', '.join(unconsumed)}")
    return "ok"


def _run_checks(checks: dict) -> dict[str, str]:
    results = {}
    for name, (check, errors) in checks.items():
        try:
            results[name] = check()
        except errors as exc:
            results[name] = f"down: {type(exc).__name__}: {exc}"
    return results


# Each check fails only with the errors its service raises, so one that is
# down cannot hide the state of the others.
READINESS_CHECKS = {
    "database": (_database, DatabaseError),
    "redis": (_redis, (redis.RedisError, OSError)),
    "workers": (_workers_answering, (LookupError, redis.RedisError, OSError)),
    "queues": (_queues_consumed, (LookupError, redis.RedisError, OSError)),
}

_LivenessSerializer = inline_serializer(
    name="Liveness",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(
            child=serializers.CharField(), help_text="database: 'ok' or 'down: why'."
        ),
        "workers_present": serializers.IntegerField(
            allow_null=True,
            help_text="Workers whose presence beat is fresh; null when Redis is unreachable.",
        ),
    },
)
_ReadinessSerializer = inline_serializer(
    name="Readiness",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(
            child=serializers.CharField(),
            help_text="database, redis, workers, queues: 'ok', 'ok (n)' or 'down: why'.",
        ),
    },
)


class HealthCheckView(APIView):
    """Liveness: this process answers and reaches its database. Cheap enough to call every second."""

    authentication_classes = ()
    permission_classes = [AllowAny]
    throttle_classes = ()

    @extend_schema(
        summary="Liveness: the process and its database",
        auth=[],
        responses={200: _LivenessSerializer, 503: _LivenessSerializer},
    )
    def get(self, request):
        checks = _run_checks({"database": (_database, DatabaseError)})
        try:
            workers_present = len(selectors.worker_presence_list())
        except (redis.RedisError, OSError):
            workers_present = None
        healthy = checks["database"] == "ok"
        return Response(
            {
                "status": "ok" if healthy else "unavailable",
                "checks": checks,
                "workers_present": workers_present,
            },
            status=status.HTTP_200_OK
            if healthy
            else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


class ReadinessView(APIView):
    """Readiness: database, Redis, a worker answering a ping, and every queue with jobs consumed."""

    authentication_classes = ()
    permission_classes = [AllowAny]
    throttle_classes = ()

    @extend_schema(
        summary="Readiness: database, Redis, workers answering, queues consumed",
        auth=[],
        responses={200: _ReadinessSerializer, 503: _ReadinessSerializer},
    )
    def get(self, request):
        checks = _run_checks(READINESS_CHECKS)
        healthy = all(state.startswith("ok") for state in checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status=status.HTTP_200_OK
            if healthy
            else status.HTTP_503_SERVICE_UNAVAILABLE,
        )
