"""The dashboard: its figures (queues, workers, stuck jobs, charts), its JSON and its buttons."""

import json
import time
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from jobs import broker
from jobs import selectors
from jobs import services
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.tests.conftest import failed_job
from jobs.tests.conftest import make_job
from jobs.worker_control import PRESENCE_KEY

S = ProcessingJob.Status
DATA = "admin:jobs_dashboard_data"


def presence(name: str, *, queues: list[str], seen_ago_s: float = 0.0) -> None:
    """A worker's presence record in Redis, as its main process writes it."""
    record = {
        "name": name,
        "pid": 1,
        "queues": queues,
        "configured_queues": queues,
        "concurrency": 2,
        "prefetch_multiplier": 1,
        "started_at": time.time() - 60,
        "seen_at": time.time() - seen_ago_s,
    }
    broker.broker_client().hset(PRESENCE_KEY, name, json.dumps(record))


def finished(status: str, *, queue: str, minutes_ago: float, wait_s: float = 1.0):
    ended = timezone.now() - timedelta(minutes=minutes_ago)
    return make_job(
        status=status,
        queue=queue,
        attempts=1,
        queued_at=ended - timedelta(seconds=wait_s + 2),
        started_at=ended - timedelta(seconds=2),
        completed_at=ended,
    )


@pytest.mark.django_db
def test_queues_show_depth_oldest_wait_and_last_hour_and_day_outcomes(clean_broker):
    old = make_job(queue="low", queued_at=timezone.now() - timedelta(minutes=30))
    make_job(queue="low")
    for minutes_ago in (5, 10, 20):
        finished(S.COMPLETED, queue="low", minutes_ago=minutes_ago)
    finished(S.FAILED, queue="low", minutes_ago=15)
    finished(S.FAILED, queue="low", minutes_ago=5 * 60)
    finished(S.COMPLETED, queue="low", minutes_ago=2 * 24 * 60)  # outside the day
    queues = {queue["name"]: queue for queue in selectors.dashboard_get()["queues"]}
    low = queues["low"]
    assert low["waiting"] == 2
    assert 30 * 60 - 5 < low["oldest_waiting_s"] < 30 * 60 + 60
    assert (low["completed_1h"], low["failed_1h"]) == (3, 1)
    assert (low["completed_24h"], low["failed_24h"]) == (3, 2)
    assert low["failure_rate_1h"] == 0.25
    assert low["failure_rate_24h"] == 0.4
    assert low["usual_wait_s"] == pytest.approx(1.0, abs=0.01)
    assert queues["default"]["oldest_waiting_s"] is None
    assert old.queue == "low"


@pytest.mark.django_db
def test_workers_show_their_running_jobs_and_a_silent_one_is_marked(clean_broker):
    presence("alive@host", queues=["default"])
    presence("crashed@host", queues=["video"], seen_ago_s=600)
    presence("long-gone@host", queues=["video"], seen_ago_s=7200)
    now = timezone.now()
    running = make_job(
        status=S.RUNNING,
        worker="alive@host",
        attempts=1,
        started_at=now - timedelta(seconds=20),
        heartbeat_at=now,
        progress=40,
        progress_message="page 4 of 10",
    )
    make_job(
        status=S.RUNNING,
        worker="ghost@host",
        attempts=1,
        started_at=now - timedelta(seconds=20),
        heartbeat_at=now,
    )
    workers = {
        worker["name"]: worker for worker in selectors.dashboard_get()["workers"]
    }
    alive = workers["alive@host"]
    assert alive["answering"] is True
    assert alive["queues"] == ["default"]
    assert alive["concurrency"] == 2
    assert [job["id"] for job in alive["jobs"]] == [str(running.id)]
    assert alive["jobs"][0]["progress"] == 40
    assert alive["jobs"][0]["progress_message"] == "page 4 of 10"
    assert workers["crashed@host"]["answering"] is False
    assert "long-gone@host" not in workers
    assert workers["ghost@host"]["answering"] is False
    assert workers["ghost@host"]["has_record"] is False


@pytest.mark.django_db
def test_stuck_jobs_are_stale_running_ones_and_waiting_far_past_the_usual(
    clean_broker, settings
):
    settings.OPS_STUCK_QUEUED_MIN_S = 60
    now = timezone.now()
    stale = make_job(
        status=S.RUNNING,
        worker="w@host",
        attempts=1,
        started_at=now - timedelta(minutes=10),
        heartbeat_at=now - timedelta(minutes=9),
    )
    presence("w@host", queues=["default"])
    make_job(
        status=S.RUNNING, worker="w@host", attempts=1, started_at=now, heartbeat_at=now
    )
    overdue = make_job(queue="medium", queued_at=now - timedelta(minutes=5))
    make_job(queue="medium", queued_at=now - timedelta(seconds=10))
    make_job(queue="video", queued_at=now - timedelta(minutes=5))
    QueueState.objects.create(name="video", is_paused=True)
    stuck = selectors.dashboard_get()["stuck"]
    assert [job["id"] for job in stuck["running"]] == [str(stale.id)]
    assert "no heartbeat for 9 min" in stuck["running"][0]["reason"]
    assert [job["id"] for job in stuck["waiting"]] == [str(overdue.id)]


@pytest.mark.django_db
def test_the_dashboard_reads_a_fixed_number_of_queries_whatever_the_rows(
    clean_broker, django_assert_num_queries
):
    def rows(count):
        for number in range(count):
            finished(S.COMPLETED, queue="high", minutes_ago=number)
            make_job(
                status=S.RUNNING, worker=f"w{number}@host", started_at=timezone.now()
            )
            make_job(queue="low")

    rows(2)
    with django_assert_num_queries(7) as few:
        selectors.dashboard_get()
    rows(8)
    with django_assert_num_queries(len(few.captured_queries)):
        selectors.dashboard_get()


@pytest.mark.django_db
def test_charts_count_outcomes_per_minute_and_per_hour_for_each_queue():
    finished(S.COMPLETED, queue="high", minutes_ago=2)
    finished(S.COMPLETED, queue="high", minutes_ago=2)
    finished(S.FAILED, queue="high", minutes_ago=3 * 60)
    charts = selectors.dashboard_charts_get()
    hour = charts["hour"]
    assert hour["bucket_s"] == 60 and len(hour["starts"]) == 61
    assert sum(hour["queues"]["high"]["completed"]) == 2
    assert sum(hour["queues"]["high"]["failed"]) == 0
    day = charts["day"]
    assert sum(day["queues"]["high"]["completed"]) == 2
    assert sum(day["queues"]["high"]["failed"]) == 1


# THE PAGE AND ITS JSON -----------------------------------------------------------


@pytest.mark.django_db
def test_the_page_carries_its_first_data_and_the_urls_it_polls(admin_client):
    page = admin_client.get(reverse("admin:jobs_dashboard_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="ops-initial"' in html and 'id="ops-config"' in html
    assert reverse(DATA) in html
    assert "jobs/ops/dashboard.js" in html
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:jobs_dashboard_changelist") in index
    assert reverse("admin:jobs_failuregroup_changelist") in index


@pytest.mark.django_db
def test_the_json_answers_staff_who_may_view_it_and_no_one_else(
    admin_client, client, django_user_model
):
    response = admin_client.get(reverse(DATA))
    assert response.status_code == 200
    assert {"queues", "workers", "stuck", "generated_at"} <= set(response.json())
    assert admin_client.get(reverse("admin:jobs_dashboard_charts")).status_code == 200
    assert admin_client.post(reverse(DATA)).status_code == 405
    staff = django_user_model.objects.create_user(
        username="plainstaff", password="plain-pass-123", is_staff=True
    )
    client.force_login(staff)
    assert client.get(reverse(DATA)).status_code == 403
    client.logout()
    assert client.get(reverse(DATA)).status_code == 302  # to the login page


def queue_action(client, queue: str, action: str):
    return client.post(
        reverse("admin:jobs_dashboard_queue_action", args=[queue, action])
    )


@pytest.mark.django_db
def test_pause_resume_and_purge_buttons_call_the_services_and_are_logged(
    admin_client, admin_user, clean_broker
):
    waiting = services.job_submit(job_type="jobs.diagnostic", queue="low")
    response = queue_action(admin_client, "low", "pause")
    assert response.status_code == 200
    assert "Paused queue low" in response.json()["message"]
    assert "low" in selectors.paused_queue_names()
    assert queue_action(admin_client, "low", "resume").status_code == 200
    assert "low" not in selectors.paused_queue_names()
    purged = queue_action(admin_client, "low", "purge").json()
    assert purged["message"] == "Purged queue low: 1 waiting job(s) cancelled."
    waiting.refresh_from_db()
    assert waiting.status == S.CANCELLED
    assert LogEntry.objects.filter(user=admin_user, object_id="low").count() == 3
    assert queue_action(admin_client, "nope", "pause").status_code == 404
    assert queue_action(admin_client, "low", "explode").status_code == 404
    assert (
        admin_client.get(
            reverse("admin:jobs_dashboard_queue_action", args=["low", "pause"])
        ).status_code
        == 405
    )


@pytest.mark.django_db
def test_queue_buttons_need_the_right_to_change_queues(client, django_user_model):
    viewer = django_user_model.objects.create_user(
        username="viewer", password="viewer-pass-123", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(viewer)
    assert client.get(reverse(DATA)).status_code == 200
    assert queue_action(client, "low", "pause").status_code == 403
    assert not QueueState.objects.filter(is_paused=True).exists()


@pytest.mark.django_db
def test_stuck_job_buttons_rerun_or_fail_through_the_services(
    admin_client, clean_broker
):
    now = timezone.now()
    stuck = make_job(
        status=S.RUNNING,
        worker="gone@host",
        attempts=1,
        started_at=now - timedelta(minutes=20),
        heartbeat_at=now - timedelta(minutes=20),
    )
    url = reverse("admin:jobs_dashboard_job_action", args=[stuck.id, "rerun"])
    assert admin_client.post(url).status_code == 200
    stuck.refresh_from_db()
    assert stuck.status == S.QUEUED
    assert stuck.dispatch_generation == 1
    assert [entry["event"] for entry in stuck.attempt_log] == [
        "cancelled",
        "manual_retry",
        "bulk_action",
    ]
    fail_url = reverse("admin:jobs_dashboard_job_action", args=[stuck.id, "fail"])
    assert admin_client.post(fail_url).status_code == 200
    stuck.refresh_from_db()
    assert stuck.status == S.FAILED
    assert stuck.error_message.startswith("failed by admin from the dashboard")
    assert admin_client.post(fail_url).status_code == 409  # already failed
    done = failed_job("boom")
    missing = reverse("admin:jobs_dashboard_job_action", args=["not-a-uuid", "rerun"])
    assert admin_client.post(missing).status_code == 404
    assert done.status == S.FAILED
