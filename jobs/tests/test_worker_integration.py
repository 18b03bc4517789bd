"""The engine end to end: real Redis, real `celery worker` processes, the real database."""

import threading
import time

import pytest
from django.db import close_old_connections

from jobs import broker
from jobs import services
from jobs.models import ProcessingJob

S = ProcessingJob.Status
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def submit(**params):
    queue = params.pop("queue", None)
    priority = params.pop("priority", None)
    max_retries = params.pop("max_retries", None)
    return services.job_submit(
        job_type="jobs.diagnostic",
        params=params,
        queue=queue,
        priority=priority,
        max_retries=max_retries,
    )


def reload(job):
    return ProcessingJob.objects.get(id=job.id)


def status_is(job, *statuses):
    return lambda: reload(job).status in statuses


def test_a_job_completes_with_its_result_and_progress(start_worker, wait):
    """A diagnostic job reports progress while running and completes with its result."""
    start_worker(queues="default", concurrency=1)
    job = submit(sleep_s=1.2, progress_steps=3, result={"answer": 42})
    seen_progress = set()

    def finished():
        current = reload(job)
        seen_progress.add(current.progress)
        return current.status == S.COMPLETED

    wait(finished, timeout_s=20, interval_s=0.05)
    done = reload(job)
    assert done.result == {"answer": 42}
    assert done.progress == 100
    assert done.attempts == 1
    assert done.worker.startswith("test-")
    assert done.started_at <= done.completed_at
    assert seen_progress & {33, 66}, seen_progress  # intermediate progress was visible


def test_a_failing_job_retries_with_growing_delays_then_fails_with_its_error(
    start_worker, wait
):
    """Each failed attempt is logged with a longer delay; after the last retry the job is failed."""
    start_worker(queues="default", concurrency=1)
    job = submit(fail_times=10, max_retries=3)
    wait(status_is(job, S.FAILED), timeout_s=30)
    failed = reload(job)
    assert failed.attempts == 4
    assert failed.error_message == "DiagnosticFailure: diagnostic failure on attempt 4"
    assert "DiagnosticFailure" in failed.traceback
    attempts = [
        entry for entry in failed.attempt_log if entry["event"] == "attempt_failed"
    ]
    assert [entry["attempt"] for entry in attempts] == [1, 2, 3, 4]
    delays = [entry["retry_in_s"] for entry in attempts[:3]]
    # Base 0.5 s in tests: ceilings 0.5, 1, 2, each at least half its ceiling.
    assert delays[0] <= 0.5 <= delays[1] <= 1 <= delays[2] <= 2
    assert "retry_in_s" not in attempts[3]


def test_retry_from_failed_runs_again_and_completes(start_worker, wait, staff_user):
    """A job that exhausted its retries can be retried by hand, and then completes."""
    start_worker(queues="default", concurrency=1)
    job = submit(fail_times=1, max_retries=0, result="second time lucky")
    wait(status_is(job, S.FAILED))
    services.job_retry(job_id=job.id, retried_by=staff_user)
    # attempts restart at 0, so fail_times=1 would fail again: the row's
    # params are the record, so the operator's fixed params are used.
    wait(status_is(job, S.FAILED, S.COMPLETED))
    assert reload(job).status == S.FAILED
    ProcessingJob.objects.filter(id=job.id).update(params={"result": "fixed"})
    services.job_retry(job_id=job.id, retried_by=staff_user)
    wait(status_is(job, S.COMPLETED))
    done = reload(job)
    assert done.result == "fixed"
    assert [entry["event"] for entry in done.attempt_log].count("manual_retry") == 2


def test_cancelling_a_queued_job_means_it_never_runs(start_worker, wait):
    """A cancelled queued job is dropped when its message arrives."""
    start_worker(queues="default", concurrency=1)
    blocker = submit(sleep_s=1.5)
    victim = submit(result="must not run")
    follower = submit(result="runs after")
    wait(status_is(blocker, S.RUNNING))
    services.job_cancel(job_id=victim.id)
    wait(status_is(follower, S.COMPLETED))
    dropped = reload(victim)
    assert dropped.status == S.CANCELLED
    assert dropped.attempts == 0
    assert dropped.started_at is None
    assert dropped.result is None


def test_cancelling_a_running_job_terminates_it(start_worker, wait):
    """The process running a cancelled job is killed; the worker goes on with the next job."""
    start_worker(queues="default", concurrency=1)
    long_job = submit(sleep_s=60, result="never")
    wait(status_is(long_job, S.RUNNING))
    cancelled_at = time.monotonic()
    services.job_cancel(job_id=long_job.id)
    next_job = submit(result="next")
    wait(status_is(next_job, S.COMPLETED), timeout_s=20)
    assert time.monotonic() - cancelled_at < 20  # not after the 60 s sleep
    stopped = reload(long_job)
    assert stopped.status == S.CANCELLED
    assert stopped.result is None


def test_pause_holds_jobs_on_every_worker_and_resume_runs_them(start_worker, wait):
    """While paused nothing of the queue starts, not even on a worker started later."""
    start_worker(queues="low", concurrency=1)
    services.queue_pause(queue="low")
    jobs = [submit(queue="low", result=n) for n in range(3)]
    start_worker(queues="low", concurrency=1)  # started after the pause
    time.sleep(3)
    assert {reload(job).status for job in jobs} == {S.QUEUED}
    assert all(reload(job).attempts == 0 for job in jobs)
    assert broker.queue_depths(["low"])["low"] + len(broker.unacked_task_ids()) >= 3
    services.queue_resume(queue="low")
    for job in jobs:
        wait(status_is(job, S.COMPLETED))


def test_purge_empties_the_queue_and_cancels_its_jobs(start_worker, wait):
    """Purged jobs never run, even where a worker had already taken their message."""
    services.queue_pause(queue="low")
    jobs = [submit(queue="low") for _ in range(4)]
    assert broker.queue_depths(["low"])["low"] == 4
    assert services.queue_purge(queue="low") == 4
    assert broker.queue_depths(["low"])["low"] == 0
    services.queue_resume(queue="low")
    start_worker(queues="low", concurrency=1)
    after = submit(queue="low", result="after purge")
    wait(status_is(after, S.COMPLETED))
    assert {reload(job).status for job in jobs} == {S.CANCELLED}
    assert all(reload(job).started_at is None for job in jobs)


def test_a_high_priority_job_overtakes_a_backlog_of_low_ones(start_worker, wait):
    """Priority 9 submitted last starts before every priority-0 job waiting in the queue."""
    backlog = [submit(priority=0, sleep_s=0.05) for _ in range(8)]
    urgent = submit(priority=9, result="urgent")
    start_worker(queues="default", concurrency=1)
    wait(lambda: all(reload(job).status == S.COMPLETED for job in [*backlog, urgent]))
    urgent_start = reload(urgent).started_at
    assert all(urgent_start < reload(job).started_at for job in backlog)


def test_a_job_on_a_killed_worker_runs_again_and_completes_once(start_worker, wait):
    """SIGKILL of the whole worker mid-job: the message is redelivered and the job completes."""
    fast_redelivery = {
        "CELERY_BROKER_VISIBILITY_TIMEOUT_S": "4",
        "CELERY_BROKER_UNACKED_RESTORE_INTERVAL_S": "1",
        "CELERY_BROKER_UNACKED_RESTORE_THROTTLE": "1",
    }
    doomed = start_worker(queues="default", concurrency=1, env=fast_redelivery)
    job = submit(sleep_s=4, result="survived")
    wait(status_is(job, S.RUNNING))
    doomed.kill()
    start_worker(queues="default", concurrency=1, env=fast_redelivery)
    wait(status_is(job, S.COMPLETED), timeout_s=45)
    done = reload(job)
    assert done.result == "survived"
    assert done.attempts == 2  # the killed attempt and the one that completed


def test_jobs_lost_with_the_redis_data_are_resent_by_the_watchdog(
    private_redis, start_worker, wait
):
    """FLUSHDB with jobs queued: the watchdog notices the missing messages and re-sends them."""
    jobs = [submit(result=n) for n in range(3)]
    assert broker.queue_depths(["default"])["default"] == 3
    private_redis.flushdb()
    summary = services.watchdog_run()
    assert summary["resent_queued"] == 3
    start_worker(queues="default", concurrency=2)
    for job in jobs:
        wait(status_is(job, S.COMPLETED))
    assert sorted(reload(job).result for job in jobs) == [0, 1, 2]
    assert all(reload(job).attempts == 1 for job in jobs)


def test_a_rolled_back_transaction_sends_nothing(clean_broker):
    """No row and no message survive a submit whose transaction rolled back."""
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        submit()
        raise RuntimeError("rolled back")
    assert ProcessingJob.objects.count() == 0
    assert broker.queue_depths(["default"])["default"] == 0


def test_concurrent_submits_with_one_idempotency_key_create_one_job(clean_broker):
    """Eight threads submitting the same key at once all get the same job."""
    ids, errors = [], []
    barrier = threading.Barrier(8)

    def submit_once():
        try:
            barrier.wait()
            ids.append(
                services.job_submit(
                    job_type="jobs.diagnostic", idempotency_key="same"
                ).id
            )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=submit_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 1
    assert ProcessingJob.objects.count() == 1
    assert broker.queue_depths(["default"])["default"] == 1


def test_a_job_redelivered_past_its_attempt_limit_is_failed_not_run(start_worker, wait):
    """A message for a job that already used every attempt fails the job instead of running it."""
    job = ProcessingJob.objects.create(
        job_type="jobs.diagnostic",
        queue="default",
        status=S.RUNNING,
        attempts=4,
        max_retries=3,
        params={"result": "must not run"},
    )
    services.jobs_send_on_commit(jobs=[job])
    start_worker(queues="default", concurrency=1)
    wait(status_is(job, S.FAILED))
    failed = reload(job)
    assert "past its limit" in failed.error_message
    assert failed.result is None


def test_a_running_job_heartbeats_while_it_works(start_worker, wait):
    """A long job without progress reports still refreshes heartbeat_at every interval."""
    start_worker(queues="default", concurrency=1)
    job = submit(sleep_s=2.5)
    wait(status_is(job, S.RUNNING))
    running = reload(job)
    wait(lambda: reload(job).heartbeat_at > running.started_at, timeout_s=5)
    wait(status_is(job, S.COMPLETED))


def test_the_watchdog_reruns_a_job_whose_worker_stopped_answering(start_worker, wait):
    """Worker killed mid-job: the watchdog sees it gone, requeues the job, another worker completes it."""
    doomed = start_worker(queues="default", concurrency=1)
    job = submit(sleep_s=30, result="rescued")
    wait(status_is(job, S.RUNNING))
    doomed.kill()
    # Its presence record goes stale after three beats (0.5 s each in tests).
    time.sleep(2.0)
    # Params edited so the rerun is short; the row is the record.
    ProcessingJob.objects.filter(id=job.id).update(params={"result": "rescued"})
    summary = services.watchdog_run()
    assert summary["requeued_running"] == 1
    requeued = reload(job)
    assert (requeued.status, requeued.dispatch_generation) == (S.QUEUED, 1)
    assert requeued.attempt_log[-1]["event"] == "watchdog_requeue"
    start_worker(queues="default", concurrency=1)
    wait(status_is(job, S.COMPLETED))
    done = reload(job)
    assert (done.result, done.attempts) == ("rescued", 2)
