"""/metrics: who may read it, what it says, and the counters kept in Redis."""

from datetime import timedelta

import pytest
from celery import states
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobs import services
from jobs.metrics_counters import counter_add
from jobs.models import ProcessingJob
from jobs.ops import hooks
from jobs.tests.conftest import failed_job
from jobs.tests.conftest import make_job

S = ProcessingJob.Status
URL = "/metrics"


def samples(response) -> dict[tuple[str, tuple], float]:
    """Every sample: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def scrape(staff_client, clean_broker):
    def get():
        response = staff_client.get(URL)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        return samples(response)

    return get


@pytest.mark.django_db
def test_metrics_need_staff_or_the_metrics_token(
    anon_client, user_client, staff_client, client, staff_user, settings, clean_broker
):
    refused = anon_client.get(URL)
    assert refused.status_code == 401
    assert refused.json()["error"] == "not_authenticated"
    assert user_client.get(URL).status_code == 403
    assert staff_client.get(URL).status_code == 200
    settings.OPS_METRICS_TOKEN = "s3cret-metrics-token"
    assert (
        client.get(URL, HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").status_code
        == 200
    )
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Token nope").status_code == 401
    client.force_login(staff_user)
    assert client.get(URL).status_code == 200
    assert client.post(URL).status_code == 405
    settings.OPS_METRICS_TOKEN = ""
    assert anon_client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.django_db
def test_jobs_by_type_and_status_and_queue_depth_and_oldest_age(scrape):
    make_job(queue="low", queued_at=timezone.now() - timedelta(minutes=10))
    make_job(queue="low")
    make_job(status=S.RUNNING, queue="high", started_at=timezone.now())
    failed_job("boom")
    found = scrape()
    assert (
        value(found, "mediaqueue_jobs", job_type="jobs.diagnostic", status="queued")
        == 2
    )
    assert (
        value(found, "mediaqueue_jobs", job_type="jobs.diagnostic", status="failed")
        == 1
    )
    assert value(found, "mediaqueue_queue_waiting_jobs", queue="low") == 2
    assert (
        590 < value(found, "mediaqueue_queue_oldest_waiting_seconds", queue="low") < 700
    )
    assert value(found, "mediaqueue_queue_oldest_waiting_seconds", queue="high") == 0
    assert value(found, "mediaqueue_queue_running_jobs", queue="high") == 1
    assert value(found, "mediaqueue_queue_paused", queue="low") == 0


@pytest.mark.django_db
def test_finished_jobs_are_counted_once_each_with_duration_histograms(scrape, settings):
    settings.OPS_METRICS_LAG_S = 0
    settings.OPS_METRICS_DURATION_BUCKETS_S = [1, 10]
    scrape()  # the first scrape starts counting from now

    def done(seconds: float, status=S.COMPLETED):
        now = timezone.now()
        make_job(
            status=status,
            attempts=1,
            started_at=now - timedelta(seconds=seconds),
            completed_at=now,
        )

    done(0.5)
    done(5)
    done(50)
    done(2, status=S.FAILED)
    found = scrape()
    finished = "mediaqueue_jobs_finished_total"
    assert value(found, finished, job_type="jobs.diagnostic", status="completed") == 3
    assert value(found, finished, job_type="jobs.diagnostic", status="failed") == 1
    bucket = "mediaqueue_job_duration_seconds_bucket"
    assert value(found, bucket, job_type="jobs.diagnostic", le="1.0") == 1
    assert value(found, bucket, job_type="jobs.diagnostic", le="10.0") == 2
    assert value(found, bucket, job_type="jobs.diagnostic", le="+Inf") == 3
    total = value(
        found, "mediaqueue_job_duration_seconds_sum", job_type="jobs.diagnostic"
    )
    assert total == pytest.approx(55.5, abs=0.1)
    again = scrape()  # nothing new: nothing counted twice
    assert value(again, finished, job_type="jobs.diagnostic", status="completed") == 3


@pytest.mark.django_db
def test_counters_of_retries_resends_watchdog_and_refusals(scrape, staff_user):
    class Task:
        name = "jobs.watchdog"

    hooks.after_task(
        task=Task(),
        retval={"requeued_running": 2, "failed_running": 1, "resent_queued": 0},
        state=states.SUCCESS,
    )
    Task.name = "jobs.diagnostic"
    hooks.count_retry(sender=Task())
    job = failed_job("boom")
    services.job_retry(job_id=job.id, retried_by=staff_user)
    counter_add("ratelimit_refusals", {"scope": "ingest"}, 3)
    found = scrape()
    assert value(found, "mediaqueue_watchdog_runs_total") == 1
    assert (
        value(found, "mediaqueue_watchdog_actions_total", action="requeued_running")
        == 2
    )
    assert (
        value(found, "mediaqueue_watchdog_actions_total", action="failed_running") == 1
    )
    assert value(found, "mediaqueue_job_retries_total", job_type="jobs.diagnostic") == 1
    assert value(found, "mediaqueue_job_resends_total", reason="retry") == 1
    assert value(found, "mediaqueue_ratelimit_refusals_total", scope="ingest") == 3


@pytest.mark.django_db
def test_a_rate_limit_refusal_is_counted_by_its_scope(client, scrape, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "login": "1/m"}
    credentials = {"username": "nobody", "password": "wrong-password"}
    client.post("/admin/login/", credentials)
    refused = client.post("/admin/login/", credentials)
    assert refused.status_code == 429
    found = scrape()
    assert value(found, "mediaqueue_ratelimit_refusals_total", scope="login") == 1


@pytest.mark.django_db
def test_ingest_and_upload_counts_are_the_rows_of_upload_models(
    scrape, capture_for, user
):
    capture_for(user, with_file=False)
    capture_for(user, with_file=False)
    found = scrape()
    assert value(found, "mediaqueue_uploads", model="captures.capture") == 2
    assert value(found, "mediaqueue_uploads", model="photos.photo") == 0


@pytest.mark.django_db
def test_a_scrape_reads_a_fixed_number_of_queries_whatever_the_rows(
    staff_client, clean_broker, django_assert_max_num_queries, settings
):
    settings.OPS_METRICS_LAG_S = 0
    staff_client.get(URL)
    for number in range(30):
        make_job(queue=["low", "high"][number % 2])
        failed_job(f"boom {number}")
    with django_assert_max_num_queries(20):
        assert staff_client.get(URL).status_code == 200
