"""The jobs_* management commands, through call_command against the real services."""

import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from jobs import broker
from jobs import selectors
from jobs import services
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.schedules import schedule_list

S = ProcessingJob.Status


def make_job(**fields) -> ProcessingJob:
    """A job row in any state, as the engine would have left it."""
    defaults = {"job_type": "jobs.diagnostic", "queue": "default", "priority": 5}
    return ProcessingJob.objects.create(**{**defaults, **fields})


def finished_job(status: str, *, run_s: float = 2.0, **fields) -> ProcessingJob:
    now = timezone.now()
    return make_job(
        status=status,
        attempts=1,
        started_at=now - timedelta(seconds=run_s),
        completed_at=now,
        **fields,
    )


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


class TerminalStream(io.StringIO):
    """A captured stream that says it is a terminal, so progress bars draw."""

    def isatty(self) -> bool:
        return True


# jobs_stats ----------------------------------------------------------------


@pytest.mark.django_db
def test_stats_prints_counts_rates_durations_and_queues():
    finished_job(S.COMPLETED, run_s=2)
    finished_job(S.COMPLETED, run_s=4)
    finished_job(S.FAILED)
    make_job(queue="low")
    output = run("jobs_stats")
    assert "Jobs by status" in output
    rows = [line.split() for line in output.splitlines()]
    assert ["completed", "2"] in rows
    assert ["failed", "1"] in rows
    assert ["total", "4"] in rows
    row = next(
        line for line in output.splitlines() if line.startswith("jobs.diagnostic")
    )
    assert "66.7%" in row  # success rate: 2 of 3 finished
    assert "33.3%" in row
    assert "3.00 s" in row  # average run time of the completed ones
    assert "Queues" in output
    for queue in ("high", "medium", "low", "default", "video", "maintenance"):
        assert any(line.startswith(queue) for line in output.splitlines())


@pytest.mark.django_db
def test_stats_json_is_the_selector_output():
    finished_job(S.FAILED)
    make_job()
    stats = json.loads(run("jobs_stats", "--json"))
    assert stats["by_status"]["failed"] == 1
    assert stats["by_status"]["queued"] == 1
    assert stats["types"][0]["job_type"] == "jobs.diagnostic"
    assert {queue["name"] for queue in stats["queues"]} >= {"default", "low"}


# jobs_list -----------------------------------------------------------------


@pytest.mark.django_db
def test_list_prints_a_table_of_jobs_newest_first():
    older = make_job(queued_at=timezone.now() - timedelta(minutes=5))
    newer = finished_job(S.FAILED, error_message="OSError: disk full\nsecond line")
    lines = run("jobs_list").splitlines()
    assert lines[0].split()[:4] == ["id", "status", "type", "queue"]
    assert lines[2].startswith(str(newer.id))
    assert "OSError: disk full second line" in lines[2]
    assert lines[3].startswith(str(older.id))
    assert lines[-1] == "2 of 2 job(s) shown."


@pytest.mark.django_db
def test_list_filters_by_status_type_and_queue_and_limits():
    failed = finished_job(S.FAILED, queue="low")
    make_job(queue="low")
    make_job()
    assert str(failed.id) in run("jobs_list", "--status", "failed")
    assert run("jobs_list", "--status", "failed").count("jobs.diagnostic") == 1
    assert run("jobs_list", "--queue", "low").count("jobs.diagnostic") == 2
    assert run("jobs_list", "--type", "photos.nothing") == "No jobs match.\n"
    limited = run("jobs_list", "--limit", "1")
    assert limited.count("jobs.diagnostic") == 1
    assert limited.splitlines()[-1] == "1 of 3 job(s) shown."


@pytest.mark.django_db
def test_list_rejects_unknown_queue_and_status():
    with pytest.raises(CommandError, match="unknown queue 'nowhere'"):
        run("jobs_list", "--queue", "nowhere")
    with pytest.raises(CommandError, match="invalid choice: 'lost'"):
        run("jobs_list", "--status", "lost")


# jobs_retry ----------------------------------------------------------------


@pytest.mark.django_db
def test_retry_one_failed_job_requeues_it():
    failed = finished_job(S.FAILED, error_message="boom")
    output = run("jobs_retry", str(failed.id))
    assert f"Retried job {failed.id}" in output
    failed.refresh_from_db()
    assert failed.status == S.QUEUED
    assert failed.dispatch_generation == 1
    assert failed.attempt_log[-1]["event"] == "manual_retry"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("job_id", "message"),
    [
        ("not-a-uuid", "malformed job id 'not-a-uuid'"),
        (str(uuid.UUID(int=7)), "no job with id 00000000-0000-0000-0000-000000000007"),
    ],
)
def test_retry_of_a_malformed_or_unknown_id_is_a_clear_error(job_id, message):
    with pytest.raises(CommandError, match=message):
        run("jobs_retry", job_id)


@pytest.mark.django_db
def test_retry_of_a_completed_job_is_refused():
    completed = finished_job(S.COMPLETED)
    with pytest.raises(
        CommandError, match="only failed or cancelled jobs can be retried"
    ):
        run("jobs_retry", str(completed.id))
    completed.refresh_from_db()
    assert completed.status == S.COMPLETED


@pytest.mark.django_db
def test_retry_all_failed_honours_type_and_queue_filters():
    default_failed = [finished_job(S.FAILED) for _ in range(3)]
    low_failed = finished_job(S.FAILED, queue="low")
    other_type = finished_job(S.FAILED, job_type="photos.gone")
    cancelled = finished_job(S.CANCELLED)

    output = run(
        "jobs_retry", "--all-failed", "--type", "jobs.diagnostic", "--queue", "default"
    )
    assert "Retried 3 failed job(s)." in output
    assert all(
        ProcessingJob.objects.get(id=job.id).status == S.QUEUED
        for job in default_failed
    )
    for untouched, status in [
        (low_failed, S.FAILED),
        (other_type, S.FAILED),
        (cancelled, S.CANCELLED),
    ]:
        untouched.refresh_from_db()
        assert untouched.status == status

    assert "Retried 2 failed job(s)." in run("jobs_retry", "--all-failed")
    assert "No failed jobs to retry." in run("jobs_retry", "--all-failed")


@pytest.mark.django_db
def test_retry_all_failed_draws_a_progress_bar_on_a_terminal():
    for _ in range(3):
        finished_job(S.FAILED)
    progress = TerminalStream()
    call_command("jobs_retry", "--all-failed", stdout=io.StringIO(), stderr=progress)
    assert "retrying: 100%" in progress.getvalue()
    assert "3/3" in progress.getvalue()


@pytest.mark.django_db
def test_retry_arguments_must_name_one_job_or_all_failed():
    with pytest.raises(CommandError, match="give a job id, or --all-failed"):
        run("jobs_retry")
    with pytest.raises(CommandError, match="not both"):
        run("jobs_retry", str(uuid.uuid4()), "--all-failed")
    with pytest.raises(CommandError, match="--type and --queue go with --all-failed"):
        run("jobs_retry", str(uuid.uuid4()), "--queue", "low")
    with pytest.raises(CommandError, match="unknown queue 'nowhere'"):
        run("jobs_retry", "--all-failed", "--queue", "nowhere")


# jobs_cancel ---------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_cancels_every_named_active_job():
    queued, retrying = make_job(), make_job(status=S.RETRYING, attempts=1)
    output = run("jobs_cancel", str(queued.id), str(retrying.id))
    assert output.count("Cancelled job") == 2
    assert set(ProcessingJob.objects.values_list("status", flat=True)) == {S.CANCELLED}


@pytest.mark.django_db
def test_cancel_with_an_unknown_or_malformed_id_cancels_nothing():
    queued = make_job()
    with pytest.raises(CommandError, match="no job with id .*; nothing cancelled"):
        run("jobs_cancel", str(queued.id), str(uuid.uuid4()))
    with pytest.raises(CommandError, match="malformed job id '12'"):
        run("jobs_cancel", str(queued.id), "12")
    queued.refresh_from_db()
    assert queued.status == S.QUEUED


@pytest.mark.django_db
def test_cancel_of_a_finished_job_is_reported_and_fails_the_command():
    queued, completed = make_job(), finished_job(S.COMPLETED)
    errors = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 job"):
        call_command(
            "jobs_cancel",
            str(queued.id),
            str(completed.id),
            stdout=io.StringIO(),
            stderr=errors,
        )
    assert f"Skipped {completed.id}" in errors.getvalue()
    queued.refresh_from_db()
    assert queued.status == S.CANCELLED


# jobs_purge, jobs_pause, jobs_resume ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_purge_with_yes_removes_messages_and_cancels_waiting_jobs(clean_broker):
    jobs = [
        services.job_submit(job_type="jobs.diagnostic", queue="low") for _ in range(2)
    ]
    other = services.job_submit(job_type="jobs.diagnostic", queue="default")
    assert len(broker.waiting_task_ids("low")) == 2

    output = run("jobs_purge", "low", "--yes")
    assert "Purged queue low: 2 waiting job(s) cancelled." in output
    assert broker.waiting_task_ids("low") == set()
    assert all(
        ProcessingJob.objects.get(id=job.id).status == S.CANCELLED for job in jobs
    )
    other.refresh_from_db()
    assert other.status == S.QUEUED
    assert broker.waiting_task_ids("default") == {str(other.id)}


@pytest.mark.django_db(transaction=True)
def test_purge_asks_first_and_does_nothing_unless_told_yes(clean_broker, monkeypatch):
    job = services.job_submit(job_type="jobs.diagnostic", queue="low")
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or "no")
    assert "Purge cancelled; nothing changed." in run("jobs_purge", "low")
    assert "1 waiting message(s)" in prompts[0]
    assert broker.waiting_task_ids("low") == {str(job.id)}

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert "1 waiting job(s) cancelled" in run("jobs_purge", "low")
    job.refresh_from_db()
    assert job.status == S.CANCELLED


@pytest.mark.django_db
def test_purge_noinput_is_the_same_as_yes():
    job = make_job(queue="low")
    run("jobs_purge", "low", "--noinput")
    job.refresh_from_db()
    assert job.status == S.CANCELLED


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["jobs_purge", "jobs_pause", "jobs_resume"])
def test_queue_commands_reject_an_unknown_queue(command):
    with pytest.raises(
        CommandError, match="unknown queue 'nowhere'; known queues: high"
    ):
        run(command, "nowhere", *(["--yes"] if command == "jobs_purge" else []))
    assert not QueueState.objects.exists()


@pytest.mark.django_db
def test_pause_then_resume_flips_the_queue_state():
    assert "Paused queue video" in run("jobs_pause", "video")
    assert QueueState.objects.get(name="video").is_paused is True
    assert selectors.paused_queue_names() == {"video"}
    assert "Resumed queue video." in run("jobs_resume", "video")
    assert QueueState.objects.get(name="video").is_paused is False
    assert selectors.paused_queue_names() == set()


# setup_schedules -----------------------------------------------------------


@pytest.mark.django_db
def test_setup_schedules_creates_each_schedule_once():
    declared = [schedule.name for schedule in schedule_list()]
    PeriodicTask.objects.all().delete()  # migrate created them: start afresh
    first = run("setup_schedules")
    assert f"{len(declared)} created, 0 kept." in first
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= set(declared)

    PeriodicTask.objects.filter(name="jobs: watchdog").update(enabled=False)
    second = run("setup_schedules")
    assert f"0 created, {len(declared)} kept." in second
    assert PeriodicTask.objects.filter(name__in=declared).count() == len(declared)
    assert (
        PeriodicTask.objects.get(name="jobs: watchdog").enabled is False
    )  # an edit survives


# jobs_drain ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_drain_runs_waiting_jobs_inline_most_urgent_first(clean_broker):
    low = services.job_submit(
        job_type="jobs.diagnostic", priority=2, params={"result": "low"}
    )
    high = services.job_submit(
        job_type="jobs.diagnostic",
        priority=9,
        params={"result": "high", "fail_times": 1},
    )
    mid = services.job_submit(
        job_type="jobs.diagnostic", priority=5, params={"result": "mid"}
    )
    elsewhere = services.job_submit(job_type="jobs.diagnostic", queue="low")
    assert len(broker.waiting_task_ids("default")) == 3  # no worker is running

    output = run("jobs_drain", "--queue", "default")

    assert "Ran 3 job(s) from default: 3 completed, 0 failed, 0 cancelled." in output
    jobs = {job.id: job for job in ProcessingJob.objects.all()}
    high, mid, low = jobs[high.id], jobs[mid.id], jobs[low.id]
    assert [job.status for job in (high, mid, low)] == [S.COMPLETED] * 3
    assert high.started_at < mid.started_at < low.started_at
    assert (high.result, mid.result, low.result) == ("high", "mid", "low")
    # The failed first attempt was retried at once, in its own turn.
    assert high.attempts == 2
    assert [entry["event"] for entry in high.attempt_log] == [
        "drained",
        "attempt_failed",
    ]
    assert jobs[elsewhere.id].status == S.QUEUED
    # The messages the drained jobs left in Redis are gone; the other queue's stays.
    assert broker.waiting_task_ids("default") == set()
    assert broker.waiting_task_ids("low") == {str(elsewhere.id)}


@pytest.mark.django_db(transaction=True)
def test_drain_counts_a_job_that_fails_every_attempt(clean_broker):
    doomed = services.job_submit(
        job_type="jobs.diagnostic", params={"fail_times": 5}, max_retries=1
    )
    output = run("jobs_drain", "--queue", "default")
    assert "Ran 1 job(s) from default: 0 completed, 1 failed, 0 cancelled." in output
    assert "jobs_list --status failed" in output
    doomed.refresh_from_db()
    assert doomed.status == S.FAILED
    assert doomed.attempts == 2
    assert "diagnostic failure on attempt 2" in doomed.error_message


@pytest.mark.django_db(transaction=True)
def test_drain_limit_runs_only_the_most_urgent_jobs(clean_broker):
    urgent = services.job_submit(
        job_type="jobs.diagnostic", priority=8, params={"result": 1}
    )
    later = services.job_submit(
        job_type="jobs.diagnostic", priority=1, params={"result": 2}
    )
    assert "Ran 1 job(s)" in run("jobs_drain", "--limit", "1")
    urgent.refresh_from_db()
    later.refresh_from_db()
    assert (urgent.status, later.status) == (S.COMPLETED, S.QUEUED)
    # The waiting job keeps its message, so a worker could still run it.
    assert broker.waiting_task_ids("default") == {str(later.id)}


@pytest.mark.django_db(transaction=True)
def test_drain_without_queues_runs_every_queue_but_skips_paused_ones(clean_broker):
    on_high = services.job_submit(
        job_type="jobs.diagnostic", queue="high", params={"result": 1}
    )
    on_video = services.job_submit(
        job_type="jobs.diagnostic", queue="video", params={"result": 2}
    )
    services.queue_pause(queue="video")

    output = run("jobs_drain")
    assert "Skipping paused queue(s) video" in output
    on_high.refresh_from_db()
    on_video.refresh_from_db()
    assert (on_high.status, on_video.status) == (S.COMPLETED, S.QUEUED)

    run("jobs_drain", "--queue", "video", "--include-paused")
    on_video.refresh_from_db()
    assert on_video.status == S.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_drain_skips_jobs_of_unknown_types_without_looping(clean_broker):
    orphan = make_job(job_type="photos.removed_long_ago")
    output = run("jobs_drain", "--queue", "default")
    assert "Ran 0 job(s)" in output
    assert "Skipped 1 job(s) of unknown job types." in output
    orphan.refresh_from_db()
    assert orphan.status == S.QUEUED


@pytest.mark.django_db(transaction=True)
def test_drain_draws_a_progress_bar_on_a_terminal(clean_broker):
    for n in range(3):
        services.job_submit(job_type="jobs.diagnostic", params={"result": n})
    progress = TerminalStream()
    call_command("jobs_drain", stdout=io.StringIO(), stderr=progress)
    assert "draining: 100%" in progress.getvalue()
    assert "3/3" in progress.getvalue()


@pytest.mark.django_db
def test_drain_rejects_an_unknown_queue():
    with pytest.raises(CommandError, match="unknown queue 'nowhere'"):
        run("jobs_drain", "--queue", "default", "--queue", "nowhere")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_drops_the_message_of_a_job_drained_before_it_arrived(
    start_worker, wait
):
    """A message still in Redis after a drain (e.g. prefetched meanwhile) never runs the job twice."""
    job = services.job_submit(job_type="jobs.diagnostic", params={"result": "once"})
    client = broker.broker_client()
    keys = broker.queue_keys("default")
    stale = [(key, raw) for key in keys for raw in client.lrange(key, 0, -1)]
    assert len(stale) == 1

    run("jobs_drain", "--queue", "default")
    job.refresh_from_db()
    assert (job.status, job.attempts) == (S.COMPLETED, 1)
    first_start = job.started_at

    # Put the superseded message back, as if a worker had taken it meanwhile.
    client.rpush(*stale[0])
    worker = start_worker(queues="default", concurrency=1)
    wait(
        lambda: f"job_dropped job_id={job.id} reason=superseded-message"
        in worker.log(),
        message="the worker did not drop the stale message",
    )
    wait(lambda: broker.queue_depths(["default"]) == {"default": 0})
    job.refresh_from_db()
    assert (job.status, job.attempts, job.started_at) == (S.COMPLETED, 1, first_start)
