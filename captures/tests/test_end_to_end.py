"""Device to Observation through real worker processes, Redis and the database."""

import pytest

from captures.models import Capture
from captures.models import Observation
from captures.tests import images
from jobs.models import ProcessingJob

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUES = "default,high,medium,low,maintenance"


@pytest.fixture
def worker(start_worker, settings):
    return start_worker(
        queues=QUEUES, concurrency=2, env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    )


def wait_finished(
    wait, capture_ids: list[str], timeout_s: float = 90
) -> dict[str, Capture]:
    def finished():
        captures = Capture.objects.filter(public_id__in=capture_ids)
        if all(c.status in ("completed", "failed") for c in captures) and len(
            captures
        ) == len(capture_ids):
            return captures
        return None

    captures = wait(
        finished, timeout_s=timeout_s, interval_s=0.2, message="captures not analysed"
    )
    return {capture.public_id: capture for capture in captures}


def observation_of(capture_id: str) -> Observation:
    return Observation.objects.get(capture__public_id=capture_id)


def test_ingested_captures_are_analysed_with_the_right_facts(
    worker, ingest, make_device, staff_client, wait
):
    """JSON and multipart ingests are analysed by a worker: QR and EAN-13 values, dark
    and bright frames, motion of a moved block, and the face in a real photograph."""
    _, key = make_device("esp32-001")
    _, motion_key = make_device("esp32-motion")
    posted = {
        "qr": ingest.json(
            device_id="esp32-001",
            key=key,
            image=images.qr_png("https://mq.test/door/7"),
        ),
        "ean": ingest.multipart(
            device_id="esp32-001",
            key=key,
            image=images.ean13_png("4006381333931"),
            filename="a.png",
        ),
        "dark": ingest.json(
            device_id="esp32-001", key=key, image=images.solid((12, 12, 12))
        ),
        "bright": ingest.multipart(
            device_id="esp32-001", key=key, image=images.solid((240, 240, 240))
        ),
        "photo": ingest.json(
            device_id="esp32-001", key=key, image=images.astronaut_jpeg()
        ),
        "before": ingest.json(
            device_id="esp32-motion", key=motion_key, image=images.rectangle_at(10)
        ),
    }
    posted["after"] = ingest.json(
        device_id="esp32-motion", key=motion_key, image=images.rectangle_at(200)
    )
    assert {name: r.status_code for name, r in posted.items()} == dict.fromkeys(
        posted, 201
    )
    ids = {name: response.json()["capture_id"] for name, response in posted.items()}

    captures = wait_finished(wait, list(ids.values()))

    assert {c.status for c in captures.values()} == {"completed"}
    qr = observation_of(ids["qr"])
    assert [(c["type"], c["value"]) for c in qr.codes] == [
        ("QRCODE", "https://mq.test/door/7")
    ]
    assert "qr" in qr.labels
    ean = observation_of(ids["ean"])
    assert ("EAN_13", "4006381333931") in [(c["type"], c["value"]) for c in ean.codes]
    dark = observation_of(ids["dark"])
    assert dark.brightness < 40 and "dark" in dark.labels
    bright = observation_of(ids["bright"])
    assert bright.brightness > 200 and "bright" in bright.labels
    photo = observation_of(ids["photo"])
    assert photo.faces_count >= 1 and "face" in photo.labels
    assert observation_of(ids["before"]).motion is None
    after = observation_of(ids["after"])
    assert after.motion > 0.05 and "motion" in after.labels
    # The job id the device got is the task id the operator route reports on.
    status = staff_client.get(
        f"/v1/admin/task-status/{posted['qr'].json()['task_id']}"
    ).json()
    assert (status["state"], status["ready"], status["successful"]) == (
        "SUCCESS",
        True,
        True,
    )
    assert status["result"]["capture_id"] == ids["qr"]


def test_process_capture_async_and_sync(
    worker, ingest, make_device, staff_client, settings, wait
):
    """sync=false is done by the worker (task id to poll); sync=true answers the observation."""
    settings.CAPTURES_AUTO_PROCESS = False
    _, key = make_device("esp32-001")
    first = ingest.json(
        device_id="esp32-001", key=key, image=images.qr_png("async-1")
    ).json()
    second = ingest.json(
        device_id="esp32-001", key=key, image=images.qr_png("sync-2")
    ).json()
    assert first["job_id"] is None

    queued = staff_client.post(
        f"/v1/admin/process-capture/{first['capture_id']}?sync=false"
    ).json()
    assert queued["status"] == "queued"
    wait_finished(wait, [first["capture_id"]])
    status = staff_client.get(f"/v1/admin/task-status/{queued['task_id']}").json()
    assert status["state"] == "SUCCESS"
    assert [c["value"] for c in observation_of(first["capture_id"]).codes] == [
        "async-1"
    ]

    done = staff_client.post(
        f"/v1/admin/process-capture/{second['capture_id']}?sync=true"
    ).json()
    assert done["status"] == "completed" and done["sync"] is True
    assert (
        Observation.objects.get(id=done["observation_id"]).codes[0]["value"] == "sync-2"
    )
    # The synchronous run is a job too, run in the request by the engine.
    [inline] = ProcessingJob.objects.filter(
        object_id=str(Capture.objects.get(public_id=second["capture_id"]).pk)
    )
    assert inline.status == "completed" and inline.worker.startswith("inline@")
    assert str(inline.id) == done["task_id"]


def test_process_pending_batch_route(
    worker, ingest, make_device, staff_client, settings, wait
):
    """The batch job queues every pending capture; the worker analyses them all."""
    settings.CAPTURES_AUTO_PROCESS = False
    _, key = make_device("esp32-001")
    ids = [
        ingest.json(device_id="esp32-001", key=key, image=images.numbered(n)).json()[
            "capture_id"
        ]
        for n in range(4)
    ]

    answer = staff_client.post("/v1/admin/process-pending?sync=false").json()

    assert answer["pending_count"] == 4 and answer["sync"] is False
    captures = wait_finished(wait, ids)
    assert {c.status for c in captures.values()} == {"completed"}
    batch = ProcessingJob.objects.get(id=answer["task_id"])
    assert batch.status == "completed" and batch.result == {"queued": 4}
    assert (
        ProcessingJob.objects.filter(
            job_type="captures.analyze", status="completed"
        ).count()
        == 4
    )
    assert Observation.objects.count() == 4


def test_capture_whose_file_vanished_fails_without_retries(
    worker, ingest, make_device, staff_client, wait
):
    """A capture without its file fails at once: job failed, capture failed, FAILURE state."""
    device, key = make_device("esp32-001")
    ingest_answer = ingest.json(
        device_id="esp32-001", key=key, image=images.numbered(1)
    )
    # The worker may already be at it; remove the file and queue a fresh analysis.
    capture = Capture.objects.get(public_id=ingest_answer.json()["capture_id"])
    wait_finished(wait, [capture.public_id])
    capture.image.storage.delete(capture.image.name)

    queued = staff_client.post(f"/v1/admin/process-capture/{capture.public_id}").json()
    job = wait(
        lambda: ProcessingJob.objects.filter(
            id=queued["task_id"], status="failed"
        ).first(),
        timeout_s=30,
    )

    assert job.attempts == 1
    capture.refresh_from_db()
    assert capture.status == "failed" and "missing" in capture.error_message
    assert (
        staff_client.get(f"/v1/admin/task-status/{job.id}").json()["state"] == "FAILURE"
    )
