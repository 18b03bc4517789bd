"""Failure groups: signatures, grouping, the preview, and the bulk actions it guards."""

import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from jobs import selectors
from jobs import services
from jobs.models import ProcessingJob
from jobs.selectors.ops import ErrorSignature
from jobs.selectors.ops import error_signature
from jobs.tests.conftest import failed_job
from jobs.tests.conftest import make_job
from jobs.tests.conftest import retrying_job

S = ProcessingJob.Status
DISK = "OSError: [Errno 28] No space left on device: '/var/media/photos/{}.jpg'"
DISK_SIGNATURE = "OSError: [Errno <n>] No space left on device: '<path>'"
WEEK_AGO = timedelta(days=7)


@pytest.mark.parametrize(
    ("message", "signature"),
    [
        (DISK.format(17), DISK_SIGNATURE),
        (
            f"ValueError: cannot identify image file {uuid.uuid4()}",
            "ValueError: cannot identify image file <uuid>",
        ),
        (
            "HTTPError: 503 from https://api.example.com/v1/items?id=9 after 3 tries",
            "HTTPError: <n> from <url> after <n> tries",
        ),
        (
            "KeyError: 'sha' 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c",
            "KeyError: 'sha' <hex>",
        ),
        ("RuntimeError: bad pointer 0x7ffe12ab", "RuntimeError: bad pointer <hex>"),
        ("boom\nsecond line 42", "boom"),
        ("", ""),
    ],
)
def test_error_signature_masks_ids_numbers_paths_and_urls(message, signature):
    assert error_signature(message) == signature


@pytest.mark.django_db
def test_the_database_computes_the_same_signature_as_python():
    messages = [
        DISK.format(3),
        f"ValueError: cannot identify image file {uuid.uuid4()}",
        "HTTPError: 503 from https://api.example.com/v1/items?id=9 after 3 tries",
        "TimeoutError: ffmpeg timed out after 600 s on /tmp/x/y.mp4",
        "KeyError: 'sha' 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c",
        "RuntimeError: bad pointer 0x7ffe12ab\nTraceback...",
    ]
    for message in messages:
        make_job(status=S.FAILED, error_message=message, completed_at=timezone.now())
    computed = dict(
        ProcessingJob.objects.annotate(
            signature=ErrorSignature("error_message")
        ).values_list("error_message", "signature")
    )
    assert computed == {message: error_signature(message) for message in messages}


@pytest.mark.django_db
def test_groups_count_failed_and_retrying_jobs_by_signature_type_and_queue(
    django_assert_num_queries,
):
    for number in range(3):
        failed_job(DISK.format(number), minutes_ago=10 + number, queue="high")
    failed_job(DISK.format(9), job_type="jobs.webhook", minutes_ago=1)
    retrying_job(DISK.format(10))
    failed_job("TimeoutError: ffmpeg timed out after 30 s")
    failed_job(DISK.format(11), minutes_ago=60 * 24 * 9)  # outside the window
    make_job(status=S.COMPLETED, completed_at=timezone.now())
    with django_assert_num_queries(1):
        groups = selectors.failure_group_list(since=timezone.now() - WEEK_AGO)
    assert [group["signature"] for group in groups] == [
        DISK_SIGNATURE,
        "TimeoutError: ffmpeg timed out after <n> s",
    ]
    disk = groups[0]
    assert (disk["count"], disk["failed"], disk["retrying"]) == (5, 4, 1)
    assert disk["error_type"] == "OSError"
    assert dict(disk["job_types"]) == {"jobs.diagnostic": 4, "jobs.webhook": 1}
    assert dict(disk["queues"]) == {"high": 3, "default": 2}
    assert disk["first_seen"] < disk["last_seen"]
    assert ProcessingJob.objects.filter(id=disk["sample_job_id"]).exists()


@pytest.mark.django_db
def test_a_group_as_previewed_leaves_out_failures_that_came_later():
    earlier = failed_job(DISK.format(1), minutes_ago=5)
    as_of = timezone.now() - timedelta(minutes=2)
    failed_job(DISK.format(2), minutes_ago=1)
    jobs = selectors.failure_group_jobs(
        signature=DISK_SIGNATURE, since=timezone.now() - WEEK_AGO, as_of=as_of
    )
    assert [job.id for job in jobs] == [earlier.id]


@pytest.mark.django_db
def test_preview_tells_owners_devices_and_the_files_and_bytes_a_purge_frees(
    capture_for, user, other_user
):
    captures = [
        capture_for(user, device_id="cam-front"),
        capture_for(user, device_id="cam-front"),
        capture_for(other_user, device_id="cam-back"),
    ]
    for number, capture in enumerate(captures):
        failed_job(DISK.format(number), target=capture, job_type="captures.analyze")
    missing = capture_for(user, device_id="cam-front")
    default_storage.delete(missing.thumbnail.name)
    failed_job(DISK.format(7), target=missing, job_type="captures.analyze")
    preview = selectors.failure_group_preview(
        signature=DISK_SIGNATURE,
        since=timezone.now() - WEEK_AGO,
        as_of=timezone.now(),
    )
    assert preview["total"] == 4
    assert preview["by_type"] == [("captures.analyze", 4)]
    assert dict(preview["owners"]["owners"]) == {"alice": 3, "bob": 1}
    assert dict(preview["owners"]["via"]["capture device"]) == {
        "cam-front": 3,
        "cam-back": 1,
    }
    files = preview["files"]
    assert files["rows"]["captures.Capture"] == 4
    assert files["count"] == 8  # image and thumbnail of each capture
    assert files["unknown"] == 1  # the thumbnail deleted from the storage
    expected = sum(
        default_storage.size(name)
        for capture in captures + [missing]
        for name in (capture.image.name, capture.thumbnail.name)
        if default_storage.exists(name)
    )
    assert files["bytes"] == expected > 0
    assert "Traceback" in preview["sample"].traceback


@pytest.mark.django_db
def test_bulk_retry_queues_the_groups_failed_jobs_and_records_who_and_how_many(
    staff_user,
):
    jobs = [failed_job(DISK.format(number)) for number in range(3)]
    other = failed_job("TimeoutError: ffmpeg timed out after 30 s")
    outcome = services.failure_group_retry(
        signature=DISK_SIGNATURE,
        since=timezone.now() - WEEK_AGO,
        as_of=timezone.now(),
        by=staff_user,
    )
    assert sorted(outcome.done) == sorted(str(job.id) for job in jobs)
    for job in jobs:
        job.refresh_from_db()
        assert job.status == S.QUEUED
        bulk = job.attempt_log[-1]
        assert (bulk["event"], bulk["action"], bulk["by"], bulk["count"]) == (
            "bulk_action",
            "retry",
            "operator",
            3,
        )
        assert job.attempt_log[-2]["event"] == "manual_retry"
    other.refresh_from_db()
    assert other.status == S.FAILED
    logged = LogEntry.objects.filter(object_id__in=[str(job.id) for job in jobs])
    assert logged.count() == 3
    assert {entry.user_id for entry in logged} == {staff_user.pk}
    assert "Bulk retry" in logged.first().change_message


@pytest.mark.django_db
def test_bulk_cancel_stops_the_jobs_waiting_to_retry_and_leaves_failed_ones(
    staff_user,
):
    waiting = retrying_job(DISK.format(1))
    failed = failed_job(DISK.format(2))
    outcome = services.failure_group_cancel(
        signature=DISK_SIGNATURE,
        since=timezone.now() - WEEK_AGO,
        as_of=timezone.now(),
        by=staff_user,
    )
    assert outcome.done == [str(waiting.id)]
    waiting.refresh_from_db()
    failed.refresh_from_db()
    assert (waiting.status, failed.status) == (S.CANCELLED, S.FAILED)
    assert waiting.attempt_log[-1]["action"] == "cancel"


@pytest.mark.django_db
def test_bulk_purge_deletes_targets_and_their_files_and_logs_it_on_the_jobs(
    capture_for, user, staff_user
):
    captures = [capture_for(user) for _ in range(2)]
    jobs = [
        failed_job(DISK.format(number), target=capture)
        for number, capture in enumerate(captures)
    ]
    names = [c.image.name for c in captures] + [c.thumbnail.name for c in captures]
    size = sum(default_storage.size(name) for name in names)
    outcome = services.failure_group_purge(
        signature=DISK_SIGNATURE,
        since=timezone.now() - WEEK_AGO,
        as_of=timezone.now(),
        by=staff_user,
        deletable_models={"captures.Capture"},
    )
    assert outcome.details["targets_deleted"] == 2
    assert outcome.details["files_deleted"] == 4
    assert outcome.details["bytes_freed"] == size
    assert not any(default_storage.exists(name) for name in names)
    assert not type(captures[0]).objects.filter(pk__in=[c.pk for c in captures])
    for job in jobs:
        job.refresh_from_db()
        assert job.attempt_log[-1]["action"] == "purge"


@pytest.mark.django_db
def test_bulk_purge_leaves_targets_the_operator_may_not_delete(
    capture_for, user, staff_user
):
    capture = capture_for(user)
    failed_job(DISK.format(1), target=capture)
    outcome = services.failure_group_purge(
        signature=DISK_SIGNATURE,
        since=timezone.now() - WEEK_AGO,
        as_of=timezone.now(),
        by=staff_user,
        deletable_models=set(),
    )
    assert outcome.details["models_refused"] == ["captures.Capture"]
    assert type(capture).objects.filter(pk=capture.pk).exists()
    assert default_storage.exists(capture.image.name)


# THE PAGES ---------------------------------------------------------------------


def group_url(signature: str, days: int = 7) -> str:
    base = reverse("admin:jobs_failuregroup_group")
    return f"{base}?{urlencode({'signature': signature, 'days': days})}"


@pytest.mark.django_db
def test_the_groups_page_lists_each_signature_with_a_link_to_its_preview(
    admin_client,
):
    failed_job(DISK.format(1))
    failed_job(DISK.format(2))
    page = admin_client.get(reverse("admin:jobs_failuregroup_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "No space left on device: &#x27;&lt;path&gt;&#x27;" in html
    assert group_url(DISK_SIGNATURE).replace("&", "&amp;") in html


@pytest.mark.django_db
def test_the_group_page_previews_then_a_confirmed_retry_acts_on_that_preview(
    admin_client,
):
    jobs = [failed_job(DISK.format(number)) for number in range(2)]
    page = admin_client.get(group_url(DISK_SIGNATURE))
    assert page.status_code == 200
    assert page.context["preview"]["total"] == 2
    as_of = page.context["as_of"]
    late = failed_job(DISK.format(9), minutes_ago=0)
    response = admin_client.post(
        reverse("admin:jobs_failuregroup_group"),
        {
            "signature": DISK_SIGNATURE,
            "days": 7,
            "as_of": as_of,
            "action": "retry",
            "confirm": "yes",
        },
    )
    assert response.status_code == 302
    statuses = {
        job.id: job.status
        for job in ProcessingJob.objects.filter(id__in=[*[j.id for j in jobs], late.id])
    }
    assert statuses == {jobs[0].id: S.QUEUED, jobs[1].id: S.QUEUED, late.id: S.FAILED}


@pytest.mark.django_db
def test_group_actions_need_confirmation_a_known_action_and_the_change_permission(
    admin_client, client, django_user_model
):
    job = failed_job(DISK.format(1))
    data = {
        "signature": DISK_SIGNATURE,
        "as_of": timezone.now().isoformat(),
        "action": "retry",
    }
    url = reverse("admin:jobs_failuregroup_group")
    assert admin_client.post(url, data).status_code == 400  # not confirmed
    assert (
        admin_client.post(url, {**data, "confirm": "yes", "action": "x"}).status_code
        == 400
    )
    assert (
        admin_client.post(url, {**data, "confirm": "yes", "as_of": "x"}).status_code
        == 400
    )
    assert admin_client.get(url).status_code == 400  # no signature
    viewer = django_user_model.objects.create_user(
        username="viewer", password="viewer-pass-123", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_failuregroup"))
    client.force_login(viewer)
    assert client.get(group_url(DISK_SIGNATURE)).status_code == 200
    assert client.post(url, {**data, "confirm": "yes"}).status_code == 403
    job.refresh_from_db()
    assert job.status == S.FAILED
