"""What the engine offers media apps: the final-failure hook, periodic jobs, target
selectors, the one task-state mapping, a task id per send, results kept in agreement."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from jobs import selectors
from jobs import services
from jobs import task_states
from jobs.context import JobContext
from jobs.context import JobFailure
from jobs.context import progress_percent
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from jobs.registry import register_job_type
from jobs.schedules import schedule_list
from jobs.tests.factories import ProcessingJobFactory

S = ProcessingJob.Status
pytestmark = pytest.mark.django_db

HOOKED = "tests.hooked"
hook_calls: list[JobFailure] = []


def _record(failure: JobFailure) -> None:
    hook_calls.append(failure)


@register_job_type(HOOKED, queue="default", max_retries=2, on_final_failure=_record)
def hooked(job: JobContext) -> str:
    """Fails as its params say: permanent, transient or never."""
    mode = job.params.get("mode")
    if mode == "permanent":
        raise PermanentJobError("bad input")
    if mode == "transient":
        raise ConnectionError("flaky backend")
    return "ok"


BROKEN_HOOK = "tests.broken_hook"


def _broken(failure: JobFailure) -> None:
    raise RuntimeError("hook bug")


register_job_type(BROKEN_HOOK, queue="default", on_final_failure=_broken)(hooked)


@pytest.fixture(autouse=True)
def fresh_hook_calls():
    hook_calls.clear()
    yield
    hook_calls.clear()


def running(**fields) -> ProcessingJob:
    fields.setdefault("job_type", HOOKED)
    fields.setdefault("status", S.RUNNING)
    fields.setdefault("attempts", 1)
    return ProcessingJobFactory(**fields)


# FINAL-FAILURE HOOK ------------------------------------------------------------


def test_a_permanent_error_fails_at_once_and_calls_the_hook_once(user):
    """Bad input never retries: one attempt, job failed, hook called with the failure."""
    job = services.job_run_now(
        job_type=HOOKED, params={"mode": "permanent"}, submitted_by=user
    )
    assert (job.status, job.attempts) == (S.FAILED, 1)
    [failure] = hook_calls
    assert failure.job_id == str(job.id)
    assert failure.error == "PermanentJobError: bad input"
    assert (failure.attempts, failure.params) == (1, {"mode": "permanent"})


def test_transient_errors_retry_and_the_hook_runs_only_after_the_last_attempt():
    """Each attempt with retries left is `retrying` without the hook; the last fails it once."""
    job = services.job_run_now(job_type=HOOKED, params={"mode": "transient"})
    assert (job.status, job.attempts) == (S.FAILED, 3)
    assert [entry["event"] for entry in job.attempt_log] == ["attempt_failed"] * 3
    assert len(hook_calls) == 1
    assert hook_calls[0].error == "ConnectionError: flaky backend"


def test_a_job_redelivered_past_its_limit_is_failed_with_the_hook():
    """A message arriving again after the worker died on every attempt fails the job."""
    job = running(attempts=3, max_retries=2)
    assert services.job_claim(job_id=str(job.id), generation=0, worker="w") is None
    job.refresh_from_db()
    assert job.status == S.FAILED and "redelivered" in job.error_message
    assert [failure.job_id for failure in hook_calls] == [str(job.id)]


def test_the_watchdog_fails_a_stuck_job_out_of_attempts_with_the_hook():
    stale = timezone.now() - timedelta(hours=1)
    job = running(attempts=3, max_retries=2, heartbeat_at=stale, started_at=stale)
    services.watchdog_run()
    job.refresh_from_db()
    assert job.status == S.FAILED
    assert [failure.error for failure in hook_calls] == [job.error_message]


def test_two_deciders_racing_fail_the_job_once_and_call_the_hook_once():
    """The watchdog and a redelivery both see the job out of attempts: one wins."""
    from jobs.services.failure import job_fail_for_good

    job = running(attempts=3, max_retries=2)
    outcomes = [
        job_fail_for_good(
            job_id=job.id, generation=0, from_statuses=(S.RUNNING,), error=f"by {n}"
        )
        for n in range(2)
    ]
    assert [outcome is not None for outcome in outcomes] == [True, False]
    assert len(hook_calls) == 1


def test_a_hook_that_raises_leaves_the_job_failed(caplog):
    """A bug in an app's hook is logged; the job's failure stands."""
    job = services.job_run_now(job_type=BROKEN_HOOK, params={"mode": "permanent"})
    assert job.status == S.FAILED
    assert "on_final_failure hook failed" in caplog.text


def test_cancelling_is_not_a_failure_and_calls_no_hook():
    job = running()
    services.job_cancel(job_id=job.id)
    assert hook_calls == []


# PERIODIC JOBS -----------------------------------------------------------------


def test_a_periodic_job_is_skipped_while_one_of_its_type_is_active():
    first = services.job_submit_periodic(job_type=HOOKED)
    assert first is not None and first.idempotency_key == f"periodic:{HOOKED}"
    assert services.job_submit_periodic(job_type=HOOKED) is None
    ProcessingJob.objects.filter(id=first.id).update(status=S.COMPLETED)
    assert services.job_submit_periodic(job_type=HOOKED) is not None


def test_periodic_submits_racing_queue_one_job(monkeypatch):
    """Two beats racing past the active check: the key's unique index keeps one."""
    monkeypatch.setattr(selectors, "job_active_exists", lambda **kwargs: False)
    first = services.job_submit_periodic(job_type=HOOKED)
    second = services.job_submit_periodic(job_type=HOOKED)
    assert first is not None and second is None
    assert ProcessingJob.objects.filter(job_type=HOOKED).count() == 1


def test_a_schedule_may_allow_overlapping_runs():
    services.job_submit_periodic(job_type=HOOKED, skip_if_active=False)
    services.job_submit_periodic(job_type=HOOKED, skip_if_active=False)
    assert ProcessingJob.objects.filter(job_type=HOOKED).count() == 2


def test_the_default_schedules_exist_after_migrate_alone():
    """The test database was built by `migrate` only: every declared schedule is there."""
    declared = {schedule.name for schedule in schedule_list()}
    assert declared <= set(PeriodicTask.objects.values_list("name", flat=True))
    # Exactly one cleanup of expired results, under Celery's own name.
    assert PeriodicTask.objects.filter(task="celery.backend_cleanup").count() == 1
    periodic = PeriodicTask.objects.get(name="captures: cleanup")
    assert periodic.task == "jobs.submit_periodic"


# SELECTORS FOR OTHER APPS ------------------------------------------------------


def test_jobs_of_a_target_by_type_and_status(user):
    target = get_user_model().objects.create_user("target")
    older = services.job_submit(job_type=HOOKED, target=target)
    newer = services.job_submit(job_type="jobs.diagnostic", target=target)
    ProcessingJob.objects.filter(id=newer.id).update(
        queued_at=timezone.now() + timedelta(seconds=1)
    )
    services.job_submit(job_type=HOOKED, target=user)  # another target

    assert list(selectors.job_list_for_target(target=target)) == [
        ProcessingJob.objects.get(id=newer.id),
        older,
    ]
    assert selectors.job_latest_for_target(target=target, job_type=HOOKED) == older
    assert selectors.job_waiting_for_target(target=target, job_type=HOOKED) == older
    ProcessingJob.objects.filter(id=older.id).update(status=S.RUNNING)
    assert selectors.job_waiting_for_target(target=target, job_type=HOOKED) is None


def test_targets_with_an_active_job_in_one_query(django_assert_num_queries):
    users = get_user_model().objects
    covered = users.create_user("covered")
    bare = users.create_user("bare")
    services.job_submit(job_type=HOOKED, target=covered)
    active = selectors.job_active_for_each_target(
        model=get_user_model(), job_type=HOOKED
    )
    with django_assert_num_queries(1):
        names = set(
            users.filter(username__in=["covered", "bare"])
            .filter(~active)
            .values_list("username", flat=True)
        )
    assert names == {bare.username}


def test_counts_by_status_engine_wide_and_per_queue():
    ProcessingJobFactory(queue="low", status=S.QUEUED)
    ProcessingJobFactory(queue="low", status=S.FAILED)
    ProcessingJobFactory(queue="high", status=S.QUEUED)
    assert selectors.job_counts_by_status()["queued"] == 2
    low = selectors.job_counts_by_status(queue="low")
    assert (low["queued"], low["failed"], low["running"]) == (1, 1, 0)


# ONE STATE MAPPING ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "progress", "state"),
    [
        (S.QUEUED, 0, "PENDING"),
        (S.RUNNING, 0, "STARTED"),
        (S.RUNNING, 40, "PROGRESS"),
        (S.RETRYING, 0, "RETRY"),
        (S.COMPLETED, 100, "SUCCESS"),
        (S.FAILED, 0, "FAILURE"),
        (S.CANCELLED, 0, "REVOKED"),
    ],
)
def test_every_route_reports_the_same_state_for_a_job(
    staff_client, status, progress, state
):
    job = ProcessingJobFactory(status=status, progress=progress)
    assert task_states.job_task_state(job) == state
    api = staff_client.get(f"/api/v1/tasks/{job.id}/").json()
    original = staff_client.get(f"/v1/admin/task-status/{job.id}").json()
    assert api["state"] == original["state"] == state


def test_progress_percent_is_clamped_and_whole():
    assert progress_percent(1, 3) == 33
    assert progress_percent(5, 0) == 0
    assert progress_percent(12, 10) == 100
    assert progress_percent(-1, 10) == 0


# A TASK ID PER SEND ----------------------------------------------------------------


def test_a_retry_is_sent_under_a_new_task_id_that_still_finds_the_job():
    job = ProcessingJobFactory(status=S.FAILED, task_id="")
    first = str(job.id)
    retried = services.job_retry(job_id=job.id)
    assert retried.task_id not in ("", first)
    assert selectors.job_task_ids(job=retried) == [first, retried.task_id]
    for task_id in (first, retried.task_id):
        assert selectors.job_for_task_id(task_id=task_id) == retried
    ProcessingJob.objects.filter(id=job.id).update(status=S.FAILED)
    again = services.job_retry(job_id=job.id)
    # The middle send is found through its dispatch record.
    assert selectors.job_for_task_id(task_id=retried.task_id) == again


# RESULTS IN AGREEMENT --------------------------------------------------------------


def test_a_cancel_settles_a_progress_state_left_in_the_results_backend():
    """A job that reported progress and is then cancelled shows REVOKED there too."""
    job = running(job_type="jobs.diagnostic", task_id="")
    TaskResult.objects.create(task_id=str(job.id), status="PROGRESS")
    services.job_cancel(job_id=job.id)
    assert TaskResult.objects.get(task_id=str(job.id)).status == "REVOKED"


def test_the_watchdog_failure_settles_the_results_backend_too():
    stale = timezone.now() - timedelta(hours=1)
    job = running(attempts=3, max_retries=2, heartbeat_at=stale, started_at=stale)
    TaskResult.objects.create(task_id=str(job.id), status="PROGRESS")
    services.watchdog_run()
    assert TaskResult.objects.get(task_id=str(job.id)).status == "FAILURE"


# CANCEL HOOK, ACTIVE-ONLY KEYS, COUNTS PER TYPE AND USER ----------------------

CANCELLABLE = "tests.cancellable"
cancel_calls: list[JobFailure] = []


register_job_type(
    CANCELLABLE, queue="default", on_cancel=lambda failure: cancel_calls.append(failure)
)(hooked)


@pytest.fixture
def fresh_cancel_calls():
    cancel_calls.clear()
    yield cancel_calls
    cancel_calls.clear()


def test_the_cancel_hook_runs_once_for_a_cancel_and_for_a_purge(
    fresh_cancel_calls, staff_user, clean_broker
):
    cancelled = services.job_submit(job_type=CANCELLABLE)
    services.job_cancel(job_id=cancelled.id, cancelled_by=staff_user)
    purged = services.job_submit(job_type=CANCELLABLE, queue="low")
    services.queue_purge(queue="low", purged_by=staff_user)
    assert [call.job_id for call in fresh_cancel_calls] == [
        str(cancelled.id),
        str(purged.id),
    ]
    assert fresh_cancel_calls[0].error == "cancelled by operator"


def test_a_revoke_seen_by_a_worker_calls_the_cancel_hook(fresh_cancel_calls):
    job = running(job_type=CANCELLABLE)
    services.job_record_revoked(
        task_id=str(job.id),
        job_id=str(job.id),
        generation=0,
        worker="w@h",
        terminated=True,
        expired=False,
    )
    assert [call.job_id for call in fresh_cancel_calls] == [str(job.id)]


def test_a_key_that_replays_only_active_jobs_queues_again_once_completed():
    first, created = services.job_submit_or_get(
        job_type=HOOKED, idempotency_key="ocr-17", replay_completed=False
    )
    again, created_again = services.job_submit_or_get(
        job_type=HOOKED, idempotency_key="ocr-17", replay_completed=False
    )
    assert (created, created_again, again) == (True, False, first)
    ProcessingJob.objects.filter(id=first.id).update(status=S.COMPLETED)
    fresh, created = services.job_submit_or_get(
        job_type=HOOKED, idempotency_key="ocr-17", replay_completed=False
    )
    assert created is True and fresh.id != first.id


def test_counts_by_status_of_a_type_and_of_a_user(user, other_user):
    ProcessingJobFactory(job_type=HOOKED, submitted_by=user, status=S.QUEUED)
    ProcessingJobFactory(job_type=HOOKED, submitted_by=other_user, status=S.FAILED)
    ProcessingJobFactory(job_type="jobs.diagnostic", submitted_by=user)
    mine = selectors.job_counts_by_status(job_type=HOOKED, user=user)
    assert (mine["queued"], mine["failed"]) == (1, 0)
    everyone = selectors.job_counts_by_status(job_types=[HOOKED])
    assert (everyone["queued"], everyone["failed"]) == (1, 1)


@pytest.mark.parametrize("path", ["/api/v1/tasks/{id}", "/api/v1/tasks/{id}/"])
def test_task_routes_answer_with_and_without_the_trailing_slash(staff_client, path):
    job = ProcessingJobFactory()
    assert staff_client.get(path.format(id=job.id)).status_code == 200


def test_a_delete_without_the_trailing_slash_cancels_instead_of_redirecting(
    staff_client,
):
    job = ProcessingJobFactory()
    answer = staff_client.delete(f"/api/v1/tasks/{job.id}")
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
