"""The health check: database, Redis and at least one worker."""

import redis
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


def _workers() -> str:
    alive = selectors.worker_names_alive()
    if not alive:
        raise LookupError("no worker answered a ping")
    return f"ok ({len(alive)})"


# Each check fails only with the errors its service raises, so one that is
# down cannot hide the state of the others.
CHECKS = {
    "database": (_database, DatabaseError),
    "redis": (_redis, (redis.RedisError, OSError)),
    "workers": (_workers, LookupError),
}


_HealthSerializer = inline_serializer(
    name="HealthCheck",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(
            child=serializers.CharField(),
            help_text="database, redis, workers: 'ok', 'ok (n)' or 'down: why'.",
        ),
    },
)


class HealthCheckView(APIView):
    """200 when the database, Redis and a worker answer; 503 naming what is down."""

    authentication_classes = ()
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Health of the database, Redis and the workers",
        auth=[],
        responses={200: _HealthSerializer, 503: _HealthSerializer},
    )
    def get(self, request):
        checks = {}
        for name, (check, errors) in CHECKS.items():
            try:
                checks[name] = check()
            except errors as exc:
                checks[name] = f"down: {type(exc).__name__}: {exc}"
        healthy = all(state.startswith("ok") for state in checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status=status.HTTP_200_OK
            if healthy
            else status.HTTP_503_SERVICE_UNAVAILABLE,
        )
