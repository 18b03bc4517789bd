"""The diagnostic job: proves the pipeline end to end (sleep, fail, report progress)."""

import time
from typing import Any

from rest_framework import serializers

from jobs.errors import PermanentJobError
from jobs.runtime import JobContext

MAX_SLEEP_S = 3600


class DiagnosticParamsSerializer(serializers.Serializer):
    sleep_s = serializers.FloatField(min_value=0, max_value=MAX_SLEEP_S, default=0)
    fail_times = serializers.IntegerField(min_value=0, max_value=100, default=0)
    progress_steps = serializers.IntegerField(min_value=0, max_value=1000, default=0)
    result = serializers.JSONField(required=False, default=None)


class DiagnosticFailure(RuntimeError):
    """The failure a diagnostic job was asked to produce."""


def diagnostic_run(job: JobContext) -> Any:
    """Sleep `sleep_s` in `progress_steps` steps, fail the first `fail_times` attempts, return `result`."""
    if not job.params:
        return None  # the no-op the throughput benchmark measures
    params = DiagnosticParamsSerializer(data=job.params)
    if not params.is_valid():
        raise PermanentJobError(f"bad diagnostic params: {params.errors}")
    sleep_s = params.validated_data["sleep_s"]
    steps = params.validated_data["progress_steps"]
    if job.attempt <= params.validated_data["fail_times"]:
        raise DiagnosticFailure(f"diagnostic failure on attempt {job.attempt}")
    if steps:
        for step in range(1, steps + 1):
            time.sleep(sleep_s / steps)
            job.progress(step, steps, f"step {step} of {steps}")
    elif sleep_s:
        time.sleep(sleep_s)
    return params.validated_data["result"]
