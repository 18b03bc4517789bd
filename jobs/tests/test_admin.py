"""The job engine's admin: the jobs list and detail, the actions, queues, metrics."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import broker
from jobs import selectors
from jobs import services
from jobs.models import MetricsSnapshot
from jobs.models import ProcessingJob
from jobs.models import QueueState

S = ProcessingJob.Status
CHANGELIST = "admin:jobs_processingjob_changelist"
QUEUES = "admin:jobs_queuestate_changelist"


def make_job(**fields) -> ProcessingJob:
    """A job row in any state, as the engine would have left it."""
    defaults = {"job_type": "jobs.diagnostic", "queue": "default", "priority": 5}
    return ProcessingJob.objects.create(**{**defaults, **fields})


def finished_job(status: str, **fields) -> ProcessingJob:
    now = timezone.now()
    return make_job(
        status=status,
        attempts=1,
        started_at=now - timedelta(seconds=3),
        completed_at=now,
        **fields,
    )


def run_action(client: Client, action: str, jobs, *, confirm: bool, query: str = ""):
    data = {"action": action, "_selected_action": [str(job.pk) for job in jobs]}
    if confirm:
        data["confirm"] = "yes"
    return client.post(reverse(CHANGELIST) + query, data)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


# THE JOBS LIST AND DETAIL ---------------------------------------------------


@pytest.mark.django_db
def test_changelist_shows_status_badge_progress_bar_and_attempts(admin_client):
    job = make_job(
        status=S.RUNNING, progress=40, attempts=2, max_retries=3, worker="w1@host"
    )
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    html = response.content.decode()
    assert str(job.id)[:8] in html
    assert '<progress value="40" max="100"' in html
    assert "2/4" in html  # attempts of at most max_retries + 1
    assert "w1@host" in html
    assert "Running</span>" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status__exact=failed", {"failed"}),
        ("?queue=high", {"urgent"}),
        ("?priority=9", {"urgent"}),
        ("?job_type=jobs.diagnostic", {"failed", "urgent", "plain"}),
        ("?q=disk+full", {"failed"}),
        ("?q=key-42", {"plain"}),
    ],
)
def test_changelist_filters_and_search_narrow_the_list(admin_client, query, expected):
    jobs = {
        "failed": finished_job(S.FAILED, error_message="OSError: disk full"),
        "urgent": make_job(queue="high", priority=9),
        "plain": make_job(idempotency_key="key-42"),
    }
    response = admin_client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    shown = {job.pk for job in response.context["cl"].result_list}
    assert shown == {jobs[name].pk for name in expected}


@pytest.mark.django_db
def test_search_by_full_job_id_finds_that_job(admin_client):
    wanted = make_job()
    make_job()
    response = admin_client.get(reverse(CHANGELIST), {"q": str(wanted.id)})
    assert [job.pk for job in response.context["cl"].result_list] == [wanted.pk]


@pytest.mark.django_db
def test_changelist_loads_targets_without_a_query_per_row(
    admin_client, admin_user, django_assert_max_num_queries
):
    for _ in range(10):
        services.job_submit(job_type="jobs.diagnostic", target=admin_user)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200


@pytest.mark.django_db
def test_target_links_to_its_admin_page_when_registered(admin_client, admin_user):
    job = services.job_submit(job_type="jobs.diagnostic", target=admin_user)
    response = admin_client.get(reverse(CHANGELIST))
    url = reverse("admin:auth_user_change", args=[admin_user.pk])
    assert f'<a href="{url}">user #{admin_user.pk}</a>' in response.content.decode()
    assert job.object_id == str(admin_user.pk)


@pytest.mark.django_db
def test_target_without_an_admin_page_shows_type_and_id(admin_client):
    permission = Permission.objects.first()
    services.job_submit(job_type="jobs.diagnostic", target=permission)
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert f"permission #{permission.pk}" in html
    assert f'">permission #{permission.pk}</a>' not in html


@pytest.mark.django_db
def test_detail_page_pretty_prints_params_result_traceback_and_log(admin_client):
    job = finished_job(
        S.FAILED,
        params={"fail_times": 9, "sleep_s": 0},
        result={"frames": [1, 2]},
        error_message="DiagnosticFailure: diagnostic failure on attempt 4",
        traceback='Traceback (most recent call last):\n  File "x.py"\nDiagnosticFailure',
        attempt_log=[{"event": "attempt_failed", "attempt": 1, "error": "boom"}],
    )
    response = admin_client.get(
        reverse("admin:jobs_processingjob_change", args=[job.pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "&quot;fail_times&quot;: 9,\n  &quot;sleep_s&quot;: 0" in html
    )  # indented JSON
    assert "&quot;frames&quot;: [\n    1," in html
    assert "Traceback (most recent call last):" in html
    assert "&quot;event&quot;: &quot;attempt_failed&quot;" in html
    assert 'name="_save"' not in html  # a detail view, not a form


@pytest.mark.django_db
def test_jobs_cannot_be_added_edited_or_deleted_in_the_admin(admin_client):
    job = make_job()
    change_url = reverse("admin:jobs_processingjob_change", args=[job.pk])
    assert admin_client.get(reverse("admin:jobs_processingjob_add")).status_code == 403
    assert admin_client.post(change_url, {"priority": 9}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:jobs_processingjob_delete", args=[job.pk])
        ).status_code
        == 403
    )
    job.refresh_from_db()
    assert job.priority == 5


# ACTIONS --------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_asks_for_confirmation_before_acting(admin_client):
    failed = finished_job(S.FAILED, error_message="boom")
    response = run_action(admin_client, "retry_jobs", [failed], confirm=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Retry these jobs?" in html
    assert str(failed.id) in html
    assert 'name="confirm" value="yes"' in html
    failed.refresh_from_db()
    assert failed.status == S.FAILED


@pytest.mark.django_db
def test_confirmed_retry_requeues_failed_job_as_new_generation(admin_client):
    failed = finished_job(S.FAILED, error_message="boom")
    response = run_action(admin_client, "retry_jobs", [failed], confirm=True)
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == S.QUEUED
    assert failed.dispatch_generation == 1
    assert failed.attempt_log[-1]["event"] == "manual_retry"
    assert failed.attempt_log[-1]["by"] == "admin"
    assert failed.attempt_log[-1]["previous_error"] == "boom"


@pytest.mark.django_db
def test_retry_skips_jobs_in_the_wrong_state_and_says_why(admin_client):
    failed = finished_job(S.FAILED)
    completed = finished_job(S.COMPLETED)
    response = run_action(admin_client, "retry_jobs", [failed, completed], confirm=True)
    assert response.status_code == 302
    notes = messages_of(response)
    assert "Retried 1 job(s)." in notes
    assert any(
        "Skipped 1 job(s)" in note
        and str(completed.id) in note
        and "only failed or cancelled jobs can be retried" in note
        for note in notes
    )
    completed.refresh_from_db()
    assert completed.status == S.COMPLETED


@pytest.mark.django_db
def test_retry_across_all_pages_applies_to_the_filtered_list(admin_client):
    failed = [finished_job(S.FAILED) for _ in range(3)]
    other_queue = finished_job(S.FAILED, queue="low")
    data = {
        "action": "retry_jobs",
        "select_across": "1",
        "_selected_action": [str(failed[0].pk)],
    }
    query = "?queue=default&status__exact=failed"
    page = admin_client.post(reverse(CHANGELIST) + query, data)
    assert "3 jobs selected" in page.content.decode()
    response = admin_client.post(
        reverse(CHANGELIST) + query, {**data, "confirm": "yes"}
    )
    assert response.status_code == 302
    assert ProcessingJob.objects.filter(status=S.QUEUED).count() == 3
    other_queue.refresh_from_db()
    assert other_queue.status == S.FAILED


@pytest.mark.django_db
def test_cancel_asks_first_then_cancels_queued_job(admin_client):
    queued = make_job()
    page = run_action(admin_client, "cancel_jobs", [queued], confirm=False)
    assert "Cancel these jobs?" in page.content.decode()
    queued.refresh_from_db()
    assert queued.status == S.QUEUED
    response = run_action(admin_client, "cancel_jobs", [queued], confirm=True)
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.status == S.CANCELLED
    assert queued.error_message == "cancelled by admin"
    assert "Cancelled 1 job(s)." in messages_of(response)


@pytest.mark.django_db
def test_cancel_of_finished_job_is_skipped_not_an_error(admin_client):
    completed = finished_job(S.COMPLETED)
    response = run_action(admin_client, "cancel_jobs", [completed], confirm=True)
    assert response.status_code == 302
    notes = messages_of(response)
    assert "Cancelled 0 job(s)." in notes
    assert any(
        "only queued, retrying or running jobs can be cancelled" in n for n in notes
    )


@pytest.mark.django_db(transaction=True)
def test_purge_asks_first_then_cancels_job_and_removes_its_message(
    admin_client, clean_broker
):
    queued = services.job_submit(job_type="jobs.diagnostic", queue="low")
    running = make_job(status=S.RUNNING, queue="low", attempts=1)
    assert str(queued.id) in broker.waiting_task_ids("low")  # sent on commit

    page = run_action(admin_client, "purge_jobs", [queued, running], confirm=False)
    assert "Purge these jobs?" in page.content.decode()
    assert str(queued.id) in broker.waiting_task_ids("low")

    response = run_action(admin_client, "purge_jobs", [queued, running], confirm=True)
    assert response.status_code == 302
    queued.refresh_from_db()
    running.refresh_from_db()
    assert queued.status == S.CANCELLED
    assert running.status == S.RUNNING
    assert broker.waiting_task_ids("low") == set()
    notes = messages_of(response)
    assert "Purged 1 job(s)." in notes
    assert any(str(running.id) in note and "job is running" in note for note in notes)


@pytest.mark.django_db
def test_actions_need_the_change_permission(client, django_user_model):
    viewer = django_user_model.objects.create_user(
        username="viewer", password="x", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_processingjob"))
    client.force_login(viewer)
    failed = finished_job(S.FAILED)
    response = run_action(client, "retry_jobs", [failed], confirm=True)
    assert response.status_code == 200  # the list again: no such action for this user
    failed.refresh_from_db()
    assert failed.status == S.FAILED


# QUEUES ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_queue_page_lists_every_queue_with_depth_running_and_state(
    admin_client, clean_broker, settings
):
    services.job_submit(job_type="jobs.diagnostic", queue="low")
    services.job_submit(job_type="jobs.diagnostic", queue="low", priority=9)
    make_job(status=S.RUNNING, queue="video", attempts=1)
    assert QueueState.objects.count() == 0  # no queue has a row yet

    response = admin_client.get(reverse(QUEUES))
    assert response.status_code == 200
    queues = {queue["name"]: queue for queue in response.context["queues"]}
    assert set(settings.JOBS_QUEUES) <= set(queues)
    assert (queues["low"]["waiting"], queues["low"]["in_broker"]) == (2, 2)
    assert queues["default"]["in_broker"] == 0
    assert queues["video"]["running"] == 1
    # No worker runs in this test: the waiting queue is flagged as unconsumed.
    assert queues["low"]["unconsumed"] is True
    assert queues["default"]["unconsumed"] is False
    html = response.content.decode()
    for name in settings.JOBS_QUEUES:
        assert f'data-queue="{name}"' in html


@pytest.mark.django_db
def test_pause_and_resume_buttons_change_the_queue_state(admin_client):
    response = admin_client.post(
        reverse("admin:jobs_queuestate_pause", args=["medium"])
    )
    assert response.status_code == 302
    state = QueueState.objects.get(name="medium")
    assert state.is_paused is True
    assert state.paused_by.username == "admin"
    assert "medium" in selectors.paused_queue_names()
    page = admin_client.get(reverse(QUEUES)).content.decode()
    assert reverse("admin:jobs_queuestate_resume", args=["medium"]) in page

    admin_client.post(reverse("admin:jobs_queuestate_resume", args=["medium"]))
    state.refresh_from_db()
    assert state.is_paused is False
    assert "medium" not in selectors.paused_queue_names()


@pytest.mark.django_db
def test_pause_needs_post_and_a_known_queue(admin_client):
    assert (
        admin_client.get(
            reverse("admin:jobs_queuestate_pause", args=["medium"])
        ).status_code
        == 405
    )
    assert (
        admin_client.post(
            reverse("admin:jobs_queuestate_pause", args=["nowhere"])
        ).status_code
        == 404
    )
    assert not QueueState.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_queue_purge_asks_first_then_empties_the_queue(admin_client, clean_broker):
    job = services.job_submit(job_type="jobs.diagnostic", queue="low")
    url = reverse("admin:jobs_queuestate_purge", args=["low"])

    page = admin_client.get(url)
    assert page.status_code == 200
    assert "Purge queue low?" in page.content.decode()
    assert broker.queue_depths(["low"]) == {"low": 1}

    response = admin_client.post(url)
    assert response.status_code == 302
    assert broker.queue_depths(["low"]) == {"low": 0}
    job.refresh_from_db()
    assert job.status == S.CANCELLED
    assert "Purged queue low: 1 waiting job(s) cancelled." in messages_of(response)


@pytest.mark.django_db
def test_queue_page_without_change_permission_shows_no_buttons_and_refuses_pause(
    client, django_user_model
):
    viewer = django_user_model.objects.create_user(
        username="viewer", password="x", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_queuestate"))
    client.force_login(viewer)
    page = client.get(reverse(QUEUES))
    assert page.status_code == 200
    assert "Pause" not in page.content.decode()
    assert (
        client.post(reverse("admin:jobs_queuestate_pause", args=["low"])).status_code
        == 403
    )
    assert not QueueState.objects.exists()


# INDEX AND THE OTHER ADMINS ------------------------------------------------


@pytest.mark.django_db
def test_admin_index_lists_jobs_queues_metrics_schedules_and_results(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    for url_name in [
        CHANGELIST,
        QUEUES,
        "admin:jobs_metricssnapshot_changelist",
        "admin:django_celery_beat_periodictask_changelist",
        "admin:django_celery_beat_crontabschedule_changelist",
        "admin:django_celery_results_taskresult_changelist",
    ]:
        assert f'href="{reverse(url_name)}"' in html, url_name
    jobs_app = next(
        app
        for app in admin_client.get(reverse("admin:index")).context["app_list"]
        if app["app_label"] == "jobs"
    )
    assert {model["name"] for model in jobs_app["models"]} == {
        "Processing jobs",
        "Queues",
        "Metrics snapshots",
        "Dashboard",
        "Failure groups",
        "Webhook endpoints",
        "Webhook deliveries",
    }


@pytest.mark.django_db
def test_metrics_snapshots_are_read_only(admin_client):
    snapshot = MetricsSnapshot.objects.create(
        counts_by_status={"queued": 2, "failed": 1}, queue_depths={"default": 2}
    )
    listing = admin_client.get(reverse("admin:jobs_metricssnapshot_changelist"))
    assert listing.status_code == 200
    assert "queued: 2" in listing.content.decode()
    detail = admin_client.get(
        reverse("admin:jobs_metricssnapshot_change", args=[snapshot.pk])
    )
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert (
        admin_client.get(reverse("admin:jobs_metricssnapshot_add")).status_code == 403
    )


@pytest.mark.django_db
def test_detail_links_the_celery_result_when_one_is_stored(admin_client):
    from django_celery_results.models import TaskResult

    job = finished_job(S.COMPLETED)
    result = TaskResult.objects.create(task_id=str(job.id), status="SUCCESS")
    html = admin_client.get(
        reverse("admin:jobs_processingjob_change", args=[job.pk])
    ).content.decode()
    assert (
        reverse("admin:django_celery_results_taskresult_change", args=[result.pk])
        in html
    )


@pytest.mark.django_db
def test_unknown_job_detail_is_not_found_rather_than_an_error(admin_client):
    url = reverse("admin:jobs_processingjob_change", args=[uuid.uuid4()])
    response = admin_client.get(url)
    assert response.status_code == 302  # back to the admin index, with a message


@pytest.mark.django_db
def test_task_results_link_to_their_jobs(admin_client):
    """A result row of a job's send links to the job; a plain task's row has no link."""
    from django_celery_results.models import TaskResult

    job = make_job(status=S.CANCELLED)
    job.task_id = str(job.id)
    job.save(update_fields=["task_id"])
    TaskResult.objects.create(task_id=str(job.id), status="REVOKED")
    TaskResult.objects.create(task_id="plain-task", status="SUCCESS")
    page = admin_client.get(
        reverse("admin:django_celery_results_taskresult_changelist")
    ).content.decode()
    assert reverse("admin:jobs_processingjob_change", args=[job.pk]) in page
    assert "every job is on the Jobs page" in page
