"""The /v1/admin/ routes of the original contract: staff only, exact JSON shapes."""

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType

from captures import services
from captures.models import Capture
from captures.models import Observation
from captures.tests import images
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db

ROUTES = [
    ("get", "/v1/admin/stats"),
    ("post", "/v1/admin/process-capture/cap_unknown?sync=false"),
    ("post", "/v1/admin/process-pending?sync=false"),
    ("get", f"/v1/admin/task-status/{uuid.uuid4()}"),
    ("get", "/v1/admin/queue-info"),
]


def store_capture(device, number: int = 1, image: bytes | None = None) -> Capture:
    return services.capture_ingest(
        device=device, image=image or images.numbered(number)
    ).capture


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_anonymous_gets_401_and_non_staff_403(anon_client, user_client, method, url):
    """Operator routes refuse anonymous callers (401) and non-staff users (403), in JSON."""
    anonymous = getattr(anon_client, method)(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    non_staff = getattr(user_client, method)(url)
    assert non_staff.status_code == 403
    assert non_staff.json()["error"] == "permission_denied"


def test_staff_session_login_works(client, staff_user):
    """A staff member logged in with a session (e.g. from the admin) may call them."""
    client.force_login(staff_user)
    assert client.get("/v1/admin/stats").status_code == 200


def test_stats_shape(staff_client, device_and_key, make_device, settings):
    """stats counts devices, captures by status and the job queue, as the contract says."""
    settings.CAPTURES_AUTO_PROCESS = False
    device, _ = device_and_key
    make_device("esp32-002")
    store_capture(device, 1)
    failed = store_capture(device, 2)
    Capture.objects.filter(pk=failed.pk).update(status="failed")
    ProcessingJob.objects.create(job_type="jobs.diagnostic", queue="default")

    body = staff_client.get("/v1/admin/stats").json()

    assert body == {
        "devices": 2,
        "captures": {
            "total": 2,
            "pending": 1,
            "processing": 0,
            "completed": 0,
            "failed": 1,
        },
        "queue": {"active_jobs": 0, "reserved_jobs": 0, "total_queued": 1},
    }


def test_process_capture_async_queues_a_high_priority_job(
    staff_client, staff_user, device_and_key, settings
):
    """sync=false queues captures.analyze for the capture and answers its task id."""
    settings.CAPTURES_AUTO_PROCESS = False
    capture = store_capture(device_and_key[0])

    response = staff_client.post(
        f"/v1/admin/process-capture/{capture.public_id}?sync=false"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"capture_id", "task_id", "status", "sync"}
    assert body["capture_id"] == capture.public_id
    assert body["status"] == "queued" and body["sync"] is False
    job = ProcessingJob.objects.get(id=body["task_id"])
    assert job.job_type == "captures.analyze" and job.object_id == str(capture.pk)
    assert job.priority == 8 and job.submitted_by == staff_user


def test_process_capture_async_reuses_a_waiting_job(staff_client, device_and_key):
    """A capture whose analysis is still queued is not queued twice."""
    capture = store_capture(device_and_key[0])
    queued = ProcessingJob.objects.get()

    body = staff_client.post(f"/v1/admin/process-capture/{capture.public_id}").json()

    assert body["task_id"] == str(queued.id)
    assert ProcessingJob.objects.count() == 1


def test_process_capture_sync_runs_analysis_in_the_request(
    staff_client, device_and_key, settings
):
    """sync=true analyses at once and answers the observation id; the capture is completed."""
    settings.CAPTURES_OCR_ENABLED = False
    capture = store_capture(device_and_key[0], image=images.qr_png("sync-route-42"))

    response = staff_client.post(
        f"/v1/admin/process-capture/{capture.public_id}?sync=true"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"capture_id", "observation_id", "task_id", "status", "sync"}
    assert body["status"] == "completed" and body["sync"] is True
    observation = Observation.objects.get(id=body["observation_id"])
    assert [code["value"] for code in observation.codes] == ["sync-route-42"]
    capture.refresh_from_db()
    assert capture.status == "completed"


def test_process_capture_sync_with_missing_file_is_a_422_and_marks_failed(
    staff_client, device_and_key
):
    """A capture whose file vanished cannot be analysed: 422 JSON, capture failed."""
    capture = store_capture(device_and_key[0])
    capture.image.storage.delete(capture.image.name)

    response = staff_client.post(
        f"/v1/admin/process-capture/{capture.public_id}?sync=true"
    )

    assert response.status_code == 422
    assert response.json()["error"] == "analysis_failed"
    capture.refresh_from_db()
    assert capture.status == "failed" and "missing" in capture.error_message


def test_process_capture_unknown_id_is_a_404(staff_client):
    """An unknown capture id is a JSON 404."""
    response = staff_client.post("/v1/admin/process-capture/cap_nope?sync=true")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "no capture cap_nope"}


def test_bad_sync_flag_is_a_400(staff_client, device_and_key):
    """sync must be true or false."""
    capture = store_capture(device_and_key[0])
    response = staff_client.post(
        f"/v1/admin/process-capture/{capture.public_id}?sync=maybe"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "sync must be true or false" in response.json()["detail"]


def test_process_pending_async_queues_the_batch_job(
    staff_client, device_and_key, settings
):
    """sync=false queues one captures.process_pending job and counts the pending captures."""
    settings.CAPTURES_AUTO_PROCESS = False
    for number in range(3):
        store_capture(device_and_key[0], number)

    body = staff_client.post("/v1/admin/process-pending?sync=false").json()

    assert set(body) == {"task_id", "message", "pending_count", "sync"}
    assert body["pending_count"] == 3 and body["sync"] is False
    job = ProcessingJob.objects.get(id=body["task_id"])
    assert job.job_type == "captures.process_pending"


def test_process_pending_sync_queues_each_pending_capture(
    staff_client, device_and_key, settings
):
    """sync=true runs the batch inline: one analysis job per pending capture without one."""
    settings.CAPTURES_AUTO_PROCESS = False
    for number in range(3):
        store_capture(device_and_key[0], number)

    body = staff_client.post("/v1/admin/process-pending?sync=true").json()

    assert (
        body["pending_count"] == 3 and body["sync"] is True and body["task_id"] is None
    )
    assert "3 pending capture(s) queued" in body["message"]
    assert ProcessingJob.objects.filter(job_type="captures.analyze").count() == 3
    again = staff_client.post("/v1/admin/process-pending?sync=true").json()
    assert again["pending_count"] == 0
    assert ProcessingJob.objects.filter(job_type="captures.analyze").count() == 3


@pytest.mark.parametrize(
    ("job_status", "progress", "state", "ready", "successful"),
    [
        ("queued", 0, "PENDING", False, False),
        ("running", 0, "STARTED", False, False),
        ("running", 40, "PROGRESS", False, False),
        ("retrying", 0, "RETRY", False, False),
        ("completed", 100, "SUCCESS", True, True),
        ("failed", 0, "FAILURE", True, False),
        ("cancelled", 0, "REVOKED", True, False),
    ],
)
def test_task_status_maps_the_job_row(
    staff_client, job_status, progress, state, ready, successful
):
    """task-status answers from the job row, with Celery's state names."""
    job = ProcessingJob.objects.create(
        job_type="captures.analyze",
        queue="medium",
        status=job_status,
        progress=progress,
        result={"observation_id": 7} if job_status == "completed" else None,
        error_message="boom" if job_status == "failed" else "",
    )

    body = staff_client.get(f"/v1/admin/task-status/{job.id}").json()

    assert set(body) == {"task_id", "state", "result", "ready", "successful"}
    assert body["task_id"] == str(job.id)
    assert (body["state"], body["ready"], body["successful"]) == (
        state,
        ready,
        successful,
    )
    if job_status == "completed":
        assert body["result"] == {"observation_id": 7}
    if job_status == "failed":
        assert body["result"]["error"] == "boom"


@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_task_status_unknown_is_a_404(staff_client, task_id):
    """An unknown or malformed task id is a JSON 404."""
    response = staff_client.get(f"/v1/admin/task-status/{task_id}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_queue_info_shape_without_workers(staff_client, clean_broker):
    """queue-info answers the contract's shape (empty when no worker answers)."""
    body = staff_client.get("/v1/admin/queue-info").json()
    assert body == {
        "active": {"tasks": 0, "by_worker": {}},
        "reserved": {"tasks": 0, "by_worker": {}},
        "workers": [],
        "pool_size": 0,
    }


def test_jobs_target_the_capture(device_and_key):
    """The analysis job's generic target is the capture."""
    capture = store_capture(device_and_key[0])
    job = ProcessingJob.objects.get()
    assert job.content_type == ContentType.objects.get_for_model(Capture)
    assert job.target == capture
