"""The job services against the database (no worker needed)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from conftest import database_session_terminate
from conftest import postgres_only
from conftest import prepared_statements
from jobs import broker
from jobs import selectors
from jobs import services
from jobs.errors import JobStateConflict
from jobs.errors import QueuePaused
from jobs.models import ProcessingJob
from jobs.tests.factories import ProcessingJobFactory

S = ProcessingJob.Status
pytestmark = pytest.mark.django_db


def test_submit_writes_a_queued_row_and_sends_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = services.job_submit(job_type="jobs.diagnostic", params={"result": 1})
        assert ProcessingJob.objects.get(id=job.id).status == S.QUEUED
    assert len(callbacks) == 1  # the Celery message waits for the commit


def test_submit_uses_the_job_types_defaults_and_caller_overrides():
    job = services.job_submit(job_type="jobs.diagnostic")
    assert (job.queue, job.priority, job.max_retries) == ("default", 5, 3)
    urgent = services.job_submit(job_type="jobs.diagnostic", priority=9, queue="high")
    assert (urgent.queue, urgent.priority) == ("high", 9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"job_type": "no.such.type"}, "job_type"),
        ({"job_type": "jobs.diagnostic", "queue": "nowhere"}, "queue"),
        ({"job_type": "jobs.diagnostic", "priority": 10}, "priority"),
        ({"job_type": "jobs.diagnostic", "priority": "9"}, "priority"),
        ({"job_type": "jobs.diagnostic", "params": [1, 2]}, "params"),
    ],
)
def test_submit_rejects_bad_input_naming_the_field(kwargs, field):
    with pytest.raises(ValidationError) as raised:
        services.job_submit(**kwargs)
    assert field in raised.value.message_dict
    assert ProcessingJob.objects.count() == 0


def test_same_idempotency_key_returns_the_existing_job():
    first = services.job_submit(job_type="jobs.diagnostic", idempotency_key="k-1")
    again = services.job_submit(job_type="jobs.diagnostic", idempotency_key="k-1")
    assert again.id == first.id
    assert ProcessingJob.objects.count() == 1


def test_a_failed_jobs_idempotency_key_may_be_used_again():
    failed = ProcessingJobFactory(idempotency_key="k-2", status=S.FAILED)
    fresh = services.job_submit(job_type="jobs.diagnostic", idempotency_key="k-2")
    assert fresh.id != failed.id


def test_rolled_back_submit_leaves_no_row_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.job_submit(job_type="jobs.diagnostic")
        raise RuntimeError("caller failed after submitting")
    assert callbacks == []
    assert ProcessingJob.objects.count() == 0


def test_batch_submit_writes_every_row():
    jobs = services.job_submit_batch(
        job_type="jobs.diagnostic", items=[{"params": {"result": n}} for n in range(5)]
    )
    assert ProcessingJob.objects.filter(status=S.QUEUED).count() == 5
    assert sorted(job.params["result"] for job in jobs) == [0, 1, 2, 3, 4]


def test_retry_delays_grow_exponentially_with_jitter_and_are_capped(settings):
    settings.JOBS_RETRY_BACKOFF_BASE_S = 2
    settings.JOBS_RETRY_BACKOFF_MAX_S = 600
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16)]:
        delays = [services.retry_delay_s(attempt=attempt) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1  # jittered
    assert all(services.retry_delay_s(attempt=30) <= 600 for _ in range(20))


def test_retrying_a_completed_job_is_a_conflict():
    job = ProcessingJobFactory(status=S.COMPLETED)
    with pytest.raises(JobStateConflict, match="only failed or cancelled"):
        services.job_retry(job_id=job.id)


def test_cancelling_a_finished_job_is_a_conflict():
    job = ProcessingJobFactory(status=S.FAILED)
    with pytest.raises(JobStateConflict, match="only queued, retrying or running"):
        services.job_cancel(job_id=job.id)


def test_retry_of_a_failed_job_requeues_it_with_a_new_generation_and_keeps_history(
    staff_user,
):
    job = ProcessingJobFactory(
        status=S.FAILED,
        attempts=4,
        error_message="boom",
        attempt_log=[{"event": "attempt_failed", "attempt": 4}],
    )
    services.job_retry(job_id=job.id, retried_by=staff_user)
    job.refresh_from_db()
    assert job.status == S.QUEUED
    assert job.attempts == 0
    assert job.dispatch_generation == 1
    assert job.error_message == ""
    assert [entry["event"] for entry in job.attempt_log] == [
        "attempt_failed",
        "manual_retry",
    ]
    assert job.attempt_log[-1]["previous_error"] == "boom"
    assert job.attempt_log[-1]["by"] == "operator"


def test_cancel_of_a_queued_job_marks_it_cancelled(staff_user):
    job = ProcessingJobFactory(status=S.QUEUED)
    services.job_cancel(job_id=job.id, cancelled_by=staff_user)
    job.refresh_from_db()
    assert job.status == S.CANCELLED
    assert job.completed_at is not None


def test_claim_refuses_a_cancelled_job_or_a_stale_generation():
    cancelled = ProcessingJobFactory(status=S.CANCELLED)
    assert (
        services.job_claim(job_id=str(cancelled.id), generation=0, worker="w") is None
    )
    superseded = ProcessingJobFactory(status=S.QUEUED, dispatch_generation=2)
    assert (
        services.job_claim(job_id=str(superseded.id), generation=1, worker="w") is None
    )
    superseded.refresh_from_db()
    assert superseded.status == S.QUEUED


def test_claim_marks_running_and_counts_the_attempt():
    job = ProcessingJobFactory(status=S.QUEUED, params={"x": 1})
    context = services.job_claim(job_id=str(job.id), generation=0, worker="w1")
    assert (context.attempt, context.params) == (1, {"x": 1})
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (S.RUNNING, 1, "w1")


def test_claim_past_the_attempt_limit_fails_the_job():
    job = ProcessingJobFactory(status=S.RUNNING, attempts=4, max_retries=3)
    assert services.job_claim(job_id=str(job.id), generation=0, worker="w") is None
    job.refresh_from_db()
    assert job.status == S.FAILED
    assert "past its limit" in job.error_message


def test_completion_after_a_cancel_does_not_overwrite_it():
    job = ProcessingJobFactory(status=S.CANCELLED)
    assert services.job_complete(job_id=str(job.id), generation=0, result=1) is False
    job.refresh_from_db()
    assert job.status == S.CANCELLED


def test_failure_with_attempts_left_schedules_a_retry_then_fails_at_the_limit():
    job = ProcessingJobFactory(status=S.RUNNING, attempts=1, max_retries=1)
    status, delay = services.job_record_failure(
        job_id=str(job.id),
        generation=0,
        error="E: x",
        traceback_text="tb",
        retryable=True,
    )
    job.refresh_from_db()
    assert status == job.status == S.RETRYING
    assert delay is not None and delay > 0
    ProcessingJob.objects.filter(id=job.id).update(status=S.RUNNING, attempts=2)
    assert services.job_record_failure(
        job_id=str(job.id),
        generation=0,
        error="E: y",
        traceback_text="tb",
        retryable=True,
    ) == (S.FAILED, None)
    job.refresh_from_db()
    assert (job.status, job.error_message, job.traceback) == (S.FAILED, "E: y", "tb")
    assert [entry["error"] for entry in job.attempt_log] == ["E: x", "E: y"]


def test_permanent_failure_fails_at_once():
    job = ProcessingJobFactory(status=S.RUNNING, attempts=1, max_retries=3)
    assert services.job_record_failure(
        job_id=str(job.id),
        generation=0,
        error="bad",
        traceback_text="",
        retryable=False,
    ) == (S.FAILED, None)
    job.refresh_from_db()
    assert job.status == S.FAILED


@pytest.mark.django_db(transaction=True)
def test_watchdog_requeues_a_running_job_without_heartbeat(clean_broker):
    stale = timezone.now() - timedelta(minutes=10)
    job = ProcessingJobFactory(
        status=S.RUNNING,
        attempts=1,
        worker="gone@nowhere",
        heartbeat_at=stale,
        started_at=stale,
    )
    summary = services.watchdog_run()
    job.refresh_from_db()
    assert summary["requeued_running"] == 1
    assert (job.status, job.dispatch_generation) == (S.QUEUED, 1)
    assert job.attempt_log[-1]["event"] == "watchdog_requeue"
    # The resend has a task id of its own, which still leads to the job.
    assert job.task_id != str(job.id)
    assert job.attempt_log[-1]["task_id"] == job.task_id
    assert broker.waiting_task_ids("default") == {job.task_id}
    assert selectors.job_for_task_id(task_id=job.task_id) == job
    assert selectors.job_task_ids(job=job) == [str(job.id), job.task_id]


@pytest.mark.django_db(transaction=True)
def test_watchdog_fails_a_stuck_job_that_is_out_of_attempts(clean_broker):
    stale = timezone.now() - timedelta(minutes=10)
    job = ProcessingJobFactory(
        status=S.RUNNING,
        attempts=4,
        max_retries=3,
        heartbeat_at=stale,
        started_at=stale,
    )
    services.watchdog_run()
    job.refresh_from_db()
    assert job.status == S.FAILED
    assert job.error_message.startswith("watchdog: no heartbeat")


@pytest.mark.django_db(transaction=True)
def test_watchdog_leaves_a_queued_job_whose_message_is_waiting(clean_broker):
    job = ProcessingJobFactory(status=S.QUEUED)
    services.jobs_send_on_commit(jobs=[job])  # autocommit: sent now
    assert services.watchdog_run()["resent_queued"] == 0
    job.refresh_from_db()
    assert job.dispatch_generation == 0


@pytest.mark.django_db(transaction=True)
def test_watchdog_resends_a_queued_job_with_no_message(clean_broker):
    job = ProcessingJobFactory(status=S.QUEUED)
    assert services.watchdog_run()["resent_queued"] == 1
    job.refresh_from_db()
    assert job.dispatch_generation == 1
    assert broker.waiting_task_ids("default") == {job.task_id}
    assert job.task_id != str(job.id)


@pytest.mark.django_db(transaction=True)
def test_purge_removes_the_queues_messages_and_cancels_its_jobs(clean_broker):
    jobs = [
        services.job_submit(job_type="jobs.diagnostic", queue="low") for _ in range(3)
    ]
    other = services.job_submit(job_type="jobs.diagnostic", queue="high")
    assert broker.queue_depths(["low"])["low"] == 3
    assert services.queue_purge(queue="low") == 3
    assert broker.queue_depths(["low", "high"]) == {"low": 0, "high": 1}
    assert {
        job.status for job in ProcessingJob.objects.filter(id__in=[j.id for j in jobs])
    } == {S.CANCELLED}
    other.refresh_from_db()
    assert other.status == S.QUEUED
    purged = ProcessingJob.objects.get(id=jobs[0].id)
    assert purged.attempt_log[-1]["event"] == "purged"
    assert purged.error_message == "purged from queue low"


@pytest.mark.django_db(transaction=True)
def test_purge_of_selected_jobs_removes_only_their_messages(clean_broker, staff_user):
    keep, drop = (services.job_submit(job_type="jobs.diagnostic") for _ in range(2))
    assert services.jobs_purge(job_ids=[drop.id], purged_by=staff_user) == 1
    assert broker.waiting_task_ids("default") == {str(keep.id)}
    drop.refresh_from_db()
    assert drop.status == S.CANCELLED
    assert drop.attempt_log[-1]["by"] == "operator"


def test_pause_and_resume_are_recorded_in_the_database(staff_user):
    state = services.queue_pause(queue="low", paused_by=staff_user)
    assert state.is_paused is True
    assert selectors.paused_queue_names() == {"low"}
    services.queue_resume(queue="low")
    assert selectors.paused_queue_names() == set()


def test_claim_in_a_paused_queue_raises_and_leaves_the_job_queued():
    job = ProcessingJobFactory(status=S.QUEUED, queue="low")
    services.queue_pause(queue="low")
    with pytest.raises(QueuePaused):
        services.job_claim(job_id=str(job.id), generation=0, worker="w")
    job.refresh_from_db()
    assert (job.status, job.attempts) == (S.QUEUED, 0)
    # An operator's drain runs paused queues on purpose.
    assert services.job_claim(
        job_id=str(job.id), generation=0, worker="w", respect_pause=False
    )


def test_delete_finished_keeps_recent_and_active_jobs():
    old = timezone.now() - timedelta(days=31)
    ProcessingJobFactory(status=S.COMPLETED, completed_at=old)
    ProcessingJobFactory(status=S.FAILED, completed_at=old)
    recent = ProcessingJobFactory(status=S.COMPLETED, completed_at=timezone.now())
    active = ProcessingJobFactory(status=S.QUEUED)
    assert services.jobs_delete_finished(older_than_days=30) == 2
    assert set(ProcessingJob.objects.values_list("id", flat=True)) == {
        recent.id,
        active.id,
    }


def test_setup_schedules_is_idempotent_and_keeps_operator_edits():
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.all().delete()  # migrate created them: start afresh
    created, kept = services.schedules_setup()
    assert "jobs: watchdog" in created
    watchdog = PeriodicTask.objects.get(name="jobs: watchdog")
    assert watchdog.interval.every == 15 * 60
    watchdog.enabled = False
    watchdog.save()
    created_again, kept_again = services.schedules_setup()
    assert created_again == []
    assert "jobs: watchdog" in kept_again
    assert PeriodicTask.objects.get(name="jobs: watchdog").enabled is False
    cleanup = PeriodicTask.objects.get(name="jobs: cleanup old jobs")
    assert (cleanup.crontab.hour, cleanup.crontab.minute) == ("2", "0")


@pytest.mark.django_db(transaction=True)
def test_retrying_a_job_of_an_unregistered_type_fails_it_instead_of_looping(
    clean_broker,
):
    job = ProcessingJobFactory(status=S.FAILED, job_type="gone.away")
    services.job_retry(job_id=job.id)
    job.refresh_from_db()
    assert job.status == S.FAILED
    assert "not registered" in job.error_message
    assert broker.queue_depths(["default"])["default"] == 0


@pytest.mark.django_db(transaction=True)
def test_watchdog_judges_an_inline_drain_job_by_its_heartbeat_alone(clean_broker):
    """A job run by jobs_drain answers no ping: a heartbeat within the stale limit keeps it."""
    # Older than two heartbeat intervals (1 s in tests), younger than stale (3 s).
    quiet = timezone.now() - timedelta(seconds=2)
    inline = ProcessingJobFactory(
        status=S.RUNNING,
        attempts=1,
        worker="inline@host:123",
        heartbeat_at=quiet,
        started_at=quiet,
    )
    on_dead_worker = ProcessingJobFactory(
        status=S.RUNNING,
        attempts=1,
        worker="gone@nowhere",
        heartbeat_at=quiet,
        started_at=quiet,
    )
    assert services.watchdog_run()["requeued_running"] == 1
    inline.refresh_from_db()
    on_dead_worker.refresh_from_db()
    assert inline.status == S.RUNNING
    assert on_dead_worker.status == S.QUEUED


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_claim_and_completion_survive_a_database_connection_that_died():
    job = ProcessingJobFactory(status=S.QUEUED)
    database_session_terminate()
    context = services.job_claim(job_id=str(job.id), generation=0, worker="w1")
    assert context is not None and context.attempt == 1
    database_session_terminate()
    assert services.job_complete(job_id=str(job.id), generation=0, result={"n": 1})
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == (S.COMPLETED, 1, {"n": 1})


@pytest.fixture
def lose_next_answer(monkeypatch):
    """lose_next_answer(): the next hot statement runs and commits on the real
    database, then its connection dies before the answer arrives (a crash at
    the worst moment). Returns the statements whose answer was lost."""
    from django.db import OperationalError
    from django.db import connection

    from jobs import hot_statements

    real_execute = hot_statements._execute_once
    armed: list[bool] = []
    lost: list[str] = []

    def execute(db, sql, params, *, fetch):
        result = real_execute(db, sql, params, fetch=fetch)
        if armed:
            armed.clear()
            lost.append(sql)
            if connection.vendor == "postgresql":
                database_session_terminate()
            raise OperationalError("server closed the connection unexpectedly")
        return result

    monkeypatch.setattr(hot_statements, "_execute_once", execute)

    def arm() -> list[str]:
        armed.append(True)
        return lost

    return arm


@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_answer_was_lost_counts_its_attempt_once(lose_next_answer):
    """Sent again on a new connection, the claim finds its own committed first run:
    the job runs as attempt 1 (a job without retries is not failed as redelivered)."""
    job = ProcessingJobFactory(status=S.QUEUED, max_retries=0)
    lost = lose_next_answer()

    context = services.job_claim(job_id=str(job.id), generation=0, worker="w1")

    assert len(lost) == 1, "the fault was not injected"
    assert context is not None and context.attempt == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (S.RUNNING, 1, "w1")


@pytest.mark.django_db(transaction=True)
def test_a_completion_whose_answer_was_lost_is_reported_done(lose_next_answer):
    job = ProcessingJobFactory(status=S.QUEUED)
    services.job_claim(job_id=str(job.id), generation=0, worker="w1")
    lost = lose_next_answer()

    done = services.job_complete(job_id=str(job.id), generation=0, result={"n": 2})

    assert len(lost) == 1, "the fault was not injected"
    assert done is True
    job.refresh_from_db()
    assert (job.status, job.result, job.attempts) == (S.COMPLETED, {"n": 2}, 1)


@pytest.mark.django_db(transaction=True)
def test_another_deliverys_claim_is_not_taken_for_ours(lose_next_answer):
    """The second send recognises only its own first run: a job some other worker
    claimed meanwhile stays theirs (past its attempt limit, it is not run again)."""
    job = ProcessingJobFactory(status=S.QUEUED, max_retries=0)
    services.job_claim(job_id=str(job.id), generation=0, worker="w-other")
    lose_next_answer()

    assert services.job_claim(job_id=str(job.id), generation=0, worker="w1") is None
    job.refresh_from_db()
    assert job.worker != "w1"


@postgres_only
def test_claim_and_completion_are_prepared_once_per_connection():
    first, second = ProcessingJobFactory.create_batch(2, status=S.QUEUED)
    for job in (first, second):
        services.job_claim(job_id=str(job.id), generation=0, worker="w1")
        services.job_complete(job_id=str(job.id), generation=0, result=None)
    prepared = prepared_statements()
    assert sum("attempts = attempts + 1" in sql for sql in prepared) == 1
    assert sum("progress = 100" in sql for sql in prepared) == 1
