"""A job's story: timeline, attempts, lineage, progress history, the target's preview,
the buttons on its page, and the jobs list's columns."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs import selectors
from jobs import services
from jobs.models import JobProgressStep
from jobs.models import ProcessingJob
from jobs.ops import progress
from jobs.tests.conftest import failed_job
from jobs.tests.conftest import make_job
from jobs.tests.conftest import retrying_job

S = ProcessingJob.Status


def page_url(job) -> str:
    return reverse("admin:jobs_processingjob_change", args=[job.pk])


@pytest.fixture(autouse=True)
def fresh_progress_memory():
    progress.progress_memory_forget()
    yield
    progress.progress_memory_forget()


# THE STORY ---------------------------------------------------------------------


@pytest.mark.django_db
def test_timeline_tells_attempts_retry_delays_progress_resends_and_who_acted(
    staff_user, admin_client
):
    job = retrying_job("OSError: disk full", retry_in_s=12.5)
    JobProgressStep.objects.create(
        job=job, percent=50, message="page 5 of 10", reported_at=job.started_at
    )
    services.job_cancel(job_id=job.id, cancelled_by=staff_user)
    services.job_retry(job_id=job.id, retried_by=staff_user)
    admin_client.post(reverse("admin:jobs_processingjob_cancel", args=[job.id]))
    job.refresh_from_db()
    events = selectors.job_timeline_get(job=job)
    titles = [event["title"] for event in events]
    assert "attempt 1 started" in titles
    assert "attempt 1 failed; retry in 12.5 s" in titles
    assert "50%" in titles
    assert "sent again (retry)" in titles
    by = {event["title"]: event["by"] for event in events if event["by"]}
    assert by["cancelled"] in ("operator", "admin")
    assert by["retried"] == "operator"
    assert by["admin action"] == "admin"
    assert [event["at"] for event in events] == sorted(event["at"] for event in events)


@pytest.mark.django_db
def test_attempts_list_each_try_with_worker_times_error_and_the_retry_after_it():
    job = retrying_job("OSError: disk full", retry_in_s=8)
    attempts = selectors.job_attempt_list(job=job)
    assert len(attempts) == 1
    first = attempts[0]
    assert (first["number"], first["worker"], first["retry_in_s"]) == (1, "w2@host", 8)
    assert first["retry_at"] == first["ended_at"] + timedelta(seconds=8)
    assert selectors.job_next_retry_at(job=job) == first["retry_at"]
    done = make_job(
        status=S.COMPLETED,
        attempts=1,
        worker="w1@host",
        started_at=timezone.now() - timedelta(seconds=4),
        completed_at=timezone.now(),
    )
    assert [a["outcome"] for a in selectors.job_attempt_list(job=done)] == ["completed"]


@pytest.mark.django_db
def test_progress_history_keeps_phase_changes_and_each_tenth_only():
    job = make_job(status=S.RUNNING, attempts=1, started_at=timezone.now())
    kept = [
        progress.progress_step_record(
            task_id="t1", job_id=str(job.id), percent=percent, message=message
        )
        for percent, message in [
            (0, "page 1 of 40"),
            (2, "page 2 of 40"),
            (5, "page 3 of 40"),
            (12, "page 5 of 40"),
            (13, "page 6 of 40"),
            (14, "OCR"),
            (100, "done"),
        ]
    ]
    assert [step is not None for step in kept] == [
        True,
        False,
        False,
        True,
        False,
        True,
        True,
    ]
    assert JobProgressStep.objects.filter(job=job).count() == 4


@pytest.mark.django_db
def test_a_progress_state_in_the_result_backend_becomes_a_step_of_the_history():
    job = make_job(status=S.RUNNING, attempts=1, started_at=timezone.now())
    meta = {"job_id": str(job.id), "percent": 30, "message": "resizing", "current": 3}
    TaskResult.objects.store_result(
        "application/json", "utf-8", str(job.id), json.dumps(meta), "PROGRESS"
    )
    step = JobProgressStep.objects.get(job=job)
    assert (step.percent, step.message, step.task_id) == (30, "resizing", str(job.id))


@pytest.mark.django_db
def test_lineage_lists_every_send_and_the_other_runs_on_the_same_target(staff_user):
    first = failed_job("boom", target=staff_user)
    services.job_retry(job_id=first.id, retried_by=staff_user)
    other = failed_job("boom", target=staff_user)
    first.refresh_from_db()
    lineage = selectors.job_lineage_get(job=first)
    assert [send["reason"] for send in lineage["sends"]] == ["first send", "retry"]
    assert lineage["sends"][1]["task_id"] == first.task_id
    assert [job.id for job in lineage["reruns"]] == [other.id]


# THE PAGE ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_timeline_attempts_table_and_times_to_the_second(
    admin_client,
):
    job = failed_job("DiagnosticFailure: diagnostic failure on attempt 1")
    html = admin_client.get(page_url(job)).content.decode()
    assert 'id="ops-timeline"' in html
    assert 'id="ops-attempts"' in html
    assert 'id="ops-lineage"' in html
    assert job.completed_at.strftime("%Y-%m-%d %H:%M:%S") in html
    assert '<table class="ops-subtable">' in html  # the attempt log as a table
    assert 'id="ops-job-retry"' in html
    assert 'id="ops-job-cancel"' not in html  # a failed job cannot be cancelled


@pytest.mark.django_db
def test_retry_and_cancel_buttons_act_and_fill_the_history(admin_client, admin_user):
    job = failed_job("boom")
    response = admin_client.post(
        reverse("admin:jobs_processingjob_retry", args=[job.id])
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == S.QUEUED
    assert 'id="ops-job-cancel"' in admin_client.get(page_url(job)).content.decode()
    admin_client.post(reverse("admin:jobs_processingjob_cancel", args=[job.id]))
    job.refresh_from_db()
    assert job.status == S.CANCELLED
    assert LogEntry.objects.filter(object_id=str(job.id), user=admin_user).count() == 2
    history = admin_client.get(
        reverse("admin:jobs_processingjob_history", args=[job.id])
    ).content.decode()
    assert "Retried from the job page" in history
    assert "Cancelled from the job page" in history
    assert (
        admin_client.get(
            reverse("admin:jobs_processingjob_retry", args=[job.id])
        ).status_code
        == 405
    )


@pytest.mark.django_db
def test_admin_actions_on_the_list_are_logged_in_each_jobs_history(
    admin_client, admin_user
):
    jobs = [failed_job("boom"), failed_job("boom")]
    admin_client.post(
        reverse("admin:jobs_processingjob_changelist"),
        {
            "action": "retry_jobs",
            "_selected_action": [str(job.pk) for job in jobs],
            "confirm": "yes",
        },
    )
    for job in jobs:
        entry = LogEntry.objects.get(object_id=str(job.pk))
        assert entry.user == admin_user
        assert "Retried by the admin action (2 jobs)" in entry.change_message


@pytest.mark.django_db
def test_the_target_shows_its_image_files_through_the_admin_file_view(
    admin_client, capture_for, user
):
    capture = capture_for(user)
    job = failed_job("boom", target=capture, job_type="captures.analyze")
    html = admin_client.get(page_url(job)).content.decode()
    thumbnail_url = reverse(
        "admin:jobs_processingjob_preview_file", args=[job.id, "thumbnail"]
    )
    assert f'<img src="{thumbnail_url}"' in html
    response = admin_client.get(thumbnail_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    unknown = reverse(
        "admin:jobs_processingjob_preview_file", args=[job.id, "original"]
    )
    assert admin_client.get(unknown).status_code == 404


@pytest.mark.django_db
def test_a_target_model_can_name_its_own_preview_media(
    admin_client, capture_for, user, monkeypatch
):
    capture = capture_for(user)
    media = [
        {
            "kind": "image",
            "url": "/v1/admin/captures/1/annotated.jpg",
            "label": "with boxes",
            "width": 320,
            "height": 240,
            "boxes": [[10, 20, 30, 40, "person"]],
        },
        {
            "kind": "video",
            "url": "/videos/1/proxy.mp4",
            "poster": "/videos/1/poster.jpg",
        },
    ]
    monkeypatch.setattr(
        type(capture), "get_preview_media", lambda self: media, raising=False
    )
    job = failed_job("boom", target=capture)
    html = admin_client.get(page_url(job)).content.decode()
    assert 'src="/v1/admin/captures/1/annotated.jpg"' in html
    assert '<rect x="10" y="20" width="30" height="40">' in html
    assert '<video src="/videos/1/proxy.mp4" poster="/videos/1/poster.jpg"' in html


@pytest.mark.django_db
def test_a_deleted_target_says_so(admin_client, capture_for, user):
    capture = capture_for(user, with_file=False)
    job = failed_job("boom", target=capture)
    capture.delete()
    html = admin_client.get(page_url(job)).content.decode()
    assert "no longer exists" in html


# THE LIST ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_worker_queued_at_wait_duration_error_and_next_retry(
    admin_client,
):
    waiting = retrying_job("OSError: disk full on /var/x", retry_in_s=30)
    failed = failed_job("TimeoutError: ffmpeg timed out")
    html = admin_client.get(
        reverse("admin:jobs_processingjob_changelist")
    ).content.decode()
    assert "w2@host" in html and "w1@host" in html
    assert waiting.queued_at.strftime("%m-%d %H:%M:%S") in html
    assert "next retry" in html
    assert "TimeoutError: ffmpeg timed out" in html
    assert "attempt 1/4" in html
    assert failed.status == S.FAILED


@pytest.mark.django_db
def test_target_files_are_for_those_who_may_view_that_kind_of_target(
    client, django_user_model, capture_for, user
):
    job = failed_job("boom", target=capture_for(user))
    operator = django_user_model.objects.create_user(
        username="jobsonly", password="jobs-only-123", is_staff=True
    )
    operator.user_permissions.add(Permission.objects.get(codename="view_processingjob"))
    client.force_login(operator)
    url = reverse("admin:jobs_processingjob_preview_file", args=[job.id, "thumbnail"])
    assert client.get(page_url(job)).status_code == 200
    assert url not in client.get(page_url(job)).content.decode()
    assert client.get(url).status_code == 403
    operator.user_permissions.add(Permission.objects.get(codename="view_capture"))
    operator = django_user_model.objects.get(pk=operator.pk)  # fresh permission cache
    client.force_login(operator)
    assert client.get(url).status_code == 200
