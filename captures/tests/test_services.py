"""Capture services and job functions against the database (analysis runs for real)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from captures import analysis
from captures import selectors
from captures import services
from captures import tasks
from captures.models import Capture
from captures.models import Observation
from captures.tests import images
from jobs import services as job_services
from jobs.context import JobContext
from jobs.models import ProcessingJob
from jobs.schedules import schedule_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_ocr(settings):
    settings.CAPTURES_OCR_ENABLED = False
    settings.CAPTURES_AUTO_PROCESS = False


def store(device, image: bytes, **fields) -> Capture:
    return services.capture_ingest(device=device, image=image, **fields).capture


def job_context(
    capture: Capture, *, attempt: int = 1, max_retries: int = 3
) -> JobContext:
    return JobContext(
        id="00000000-0000-0000-0000-000000000000",
        job_type="captures.analyze",
        queue="medium",
        params={},
        target_type="captures.capture",
        target_id=str(capture.pk),
        attempt=attempt,
        max_retries=max_retries,
    )


def test_analyze_writes_one_observation_and_completes(device_and_key):
    """Analysis stores the facts of the image and marks the capture completed."""
    capture = store(device_and_key[0], images.qr_png("service-qr"))

    observation = services.capture_analyze(capture_id=capture.pk)

    assert observation.analyzer_name == analysis.ANALYZER_NAME
    assert observation.analyzer_version == analysis.ANALYZER_VERSION
    assert [code["value"] for code in observation.codes] == ["service-qr"]
    assert "qr" in observation.labels
    assert observation.code_index == "\nservice-qr\n"
    assert (observation.width, observation.height) == (640, 480)
    assert observation.motion is None  # the device's first capture
    capture.refresh_from_db()
    assert capture.status == "completed" and capture.processed_at is not None


def test_analyze_twice_replaces_the_observation(device_and_key):
    """Running the analysis again updates the same row, never adds a second."""
    capture = store(device_and_key[0], images.numbered(1))
    first = services.capture_analyze(capture_id=capture.pk)
    Observation.objects.filter(pk=first.pk).update(labels=["stale"])

    second = services.capture_analyze(capture_id=capture.pk)

    assert second.pk == first.pk
    assert Observation.objects.count() == 1
    assert "stale" not in Observation.objects.get().labels


def test_motion_is_measured_against_the_devices_previous_capture(
    device_and_key, make_device
):
    """A block that moved between two captures of a device shows as motion."""
    device = device_and_key[0]
    store(device, images.rectangle_at(10))
    moved = store(device, images.rectangle_at(200))
    other_device, _ = make_device("esp32-other")
    alone = store(other_device, images.rectangle_at(200))

    observation = services.capture_analyze(capture_id=moved.pk)

    assert observation.motion > 0.05
    assert "motion" in observation.labels
    assert services.capture_analyze(capture_id=alone.pk).motion is None


def test_unchanged_frame_shows_no_motion(device_and_key):
    """The same scene twice (different bytes) shows no motion."""
    device = device_and_key[0]
    store(device, images.rectangle_at(50))
    again = store(device, images.reencode(images.rectangle_at(50), "JPEG"))
    observation = services.capture_analyze(capture_id=again.pk)
    assert observation.motion is not None and observation.motion < 0.01


def test_previous_capture_is_by_received_at(device_and_key):
    """The previous capture is the one received just before, whatever the ids."""
    device = device_and_key[0]
    later = store(device, images.numbered(1))
    earlier = store(device, images.numbered(2))
    Capture.objects.filter(pk=earlier.pk).update(
        received_at=timezone.now() - timedelta(hours=1)
    )
    later.refresh_from_db()
    earlier.refresh_from_db()
    assert selectors.capture_previous(capture=later) == earlier
    assert selectors.capture_previous(capture=earlier) is None


def test_analyze_job_with_missing_file_fails_for_good(device_and_key):
    """A vanished image is a permanent error: the job fails at once, and the
    engine's final-failure hook marks the capture failed with the reason."""
    capture = store(device_and_key[0], images.numbered(1))
    capture.image.storage.delete(capture.image.name)

    job = job_services.job_run_now(job_type="captures.analyze", target=capture)

    assert (job.status, job.attempts) == ("failed", 1)
    assert job.error_message.startswith("PermanentJobError")
    capture.refresh_from_db()
    assert capture.status == "failed"
    assert "missing" in capture.error_message


def test_transient_errors_keep_the_capture_processing_until_the_last_attempt(
    device_and_key, monkeypatch
):
    """A retryable failure leaves the capture processing; the engine fails it
    (through the hook) only when the job fails for good."""
    capture = store(device_and_key[0], images.numbered(1))

    def flaky(*args, **kwargs):
        raise ConnectionError("vision backend hiccup")

    monkeypatch.setattr(analysis, "analyze_image", flaky)
    job = job_services.job_submit(job_type="captures.analyze", target=capture)

    def attempt() -> str:
        context = job_services.job_claim(job_id=str(job.id), generation=0, worker="w")
        with pytest.raises(ConnectionError) as raised:
            tasks.analyze(context)
        status, _ = job_services.job_record_failure(
            job_id=str(job.id),
            generation=0,
            error=f"ConnectionError: {raised.value}",
            traceback_text="",
            retryable=True,
        )
        return status

    assert attempt() == "retrying"
    capture.refresh_from_db()
    assert capture.status == "processing"
    ProcessingJob.objects.filter(id=job.id).update(attempts=job.max_retries)
    assert attempt() == "failed"
    capture.refresh_from_db()
    assert capture.status == "failed"
    assert capture.error_message == "ConnectionError: vision backend hiccup"


def test_analyze_job_for_a_deleted_capture_is_permanent(device_and_key):
    """A capture deleted before its job ran fails the job without retry."""
    capture = store(device_and_key[0], images.numbered(1))
    Capture.objects.filter(pk=capture.pk).delete()
    with pytest.raises(Capture.DoesNotExist):
        tasks.analyze(job_context(capture))


def test_analyze_job_returns_a_json_summary(device_and_key):
    """The job's result names the capture and observation."""
    capture = store(device_and_key[0], images.numbered(1))
    result = tasks.analyze(job_context(capture))
    assert result["capture_id"] == capture.public_id
    assert result["observation_id"] == Observation.objects.get().pk


def test_process_pending_skips_captures_with_an_active_job(device_and_key):
    """Only pending captures without a queued/running job get one; it is idempotent."""
    device = device_and_key[0]
    covered = store(device, images.numbered(1))
    services.capture_reprocess(capture=covered)
    bare = store(device, images.numbered(2))
    done = store(device, images.numbered(3))
    Capture.objects.filter(pk=done.pk).update(status="completed")

    assert services.captures_process_pending() == {"queued": 1}
    assert services.captures_process_pending() == {"queued": 0}
    jobs = ProcessingJob.objects.filter(job_type="captures.analyze")
    assert sorted(job.object_id for job in jobs) == sorted(
        [str(covered.pk), str(bare.pk)]
    )


def test_process_pending_requeues_after_a_failed_job(device_and_key):
    """A pending capture whose only job failed is queued again."""
    capture = store(device_and_key[0], images.numbered(1))
    job = services.capture_reprocess(capture=capture)
    ProcessingJob.objects.filter(pk=job.pk).update(status="failed")
    assert services.captures_process_pending() == {"queued": 1}


def test_periodic_cleanup_is_skipped_while_one_is_active():
    """The engine's periodic submitter queues a cleanup unless one is still active."""
    first = job_services.job_submit_periodic(job_type="captures.cleanup")
    assert first is not None
    assert job_services.job_submit_periodic(job_type="captures.cleanup") is None
    ProcessingJob.objects.filter(id=first.id).update(status="completed")
    assert job_services.job_submit_periodic(job_type="captures.cleanup") is not None


def test_schedules_are_registered():
    """ "captures: process pending" every 5 minutes and "captures: cleanup" daily."""
    schedules = {schedule.name: schedule for schedule in schedule_list()}
    pending = schedules["captures: process pending"]
    assert pending.every_s == 300
    assert pending.celery_task == "jobs.submit_periodic"
    assert pending.celery_kwargs == {
        "job_type": "captures.process_pending",
        "skip_if_active": True,
    }
    cleanup = schedules["captures: cleanup"]
    assert cleanup.crontab is not None and cleanup.crontab["hour"] == "3"
    assert cleanup.job_type == "captures.cleanup"


def _age(capture: Capture, days: float) -> None:
    Capture.objects.filter(pk=capture.pk).update(
        received_at=timezone.now() - timedelta(days=days)
    )


def test_cleanup_honours_default_and_device_retention(make_device, settings):
    """Captures past retention (device override, else the default) go with their
    observations and files; younger ones stay."""
    settings.CAPTURES_RETENTION_DAYS = 30
    default_device, _ = make_device("cam-default")
    short_device, _ = make_device("cam-short", retention_days=2)
    long_device, _ = make_device("cam-long", retention_days=90)
    old_default = store(default_device, images.numbered(1))
    young_default = store(default_device, images.numbered(2))
    old_short = store(short_device, images.numbered(3))
    young_short = store(short_device, images.numbered(4))
    kept_long = store(long_device, images.numbered(5))
    old_long = store(long_device, images.numbered(6))
    _age(old_default, 31)
    _age(young_default, 29)
    _age(old_short, 3)
    _age(young_short, 1)
    _age(kept_long, 60)
    _age(old_long, 91)
    services.capture_analyze(capture_id=old_default.pk)
    files = {c.public_id: Path(c.image.path) for c in Capture.objects.all()}
    thumbnail = Path(Capture.objects.get(pk=old_default.pk).thumbnail.path)
    assert thumbnail.is_file()

    result = services.captures_cleanup()

    # Three images and the analysed capture's thumbnail.
    assert result == {"deleted": 3, "files_deleted": 4}
    assert not thumbnail.exists()
    remaining = set(Capture.objects.values_list("public_id", flat=True))
    assert remaining == {
        young_default.public_id,
        young_short.public_id,
        kept_long.public_id,
    }
    assert not Observation.objects.exists()
    for public_id, path in files.items():
        assert path.exists() is (public_id in remaining)
    assert services.captures_cleanup() == {"deleted": 0, "files_deleted": 0}


def test_cleanup_job_function(make_device, settings):
    """The captures.cleanup job runs the cleanup and returns its counts."""
    device, _ = make_device("cam-x", retention_days=1)
    _age(store(device, images.numbered(1)), 2)
    context = JobContext(
        id="x",
        job_type="captures.cleanup",
        queue="maintenance",
        params={},
        target_type=None,
        target_id="",
        attempt=1,
        max_retries=3,
    )
    assert tasks.cleanup(context) == {"deleted": 1, "files_deleted": 1}


def test_capture_delete_removes_the_file_after_commit(
    device_and_key, django_capture_on_commit_callbacks
):
    """Deleting one capture removes its file once the deletion is committed."""
    capture = store(device_and_key[0], images.numbered(1))
    path = Path(capture.image.path)
    with django_capture_on_commit_callbacks(execute=True):
        services.capture_delete(capture=capture)
    assert not path.exists()
    assert not Capture.objects.exists()


def test_device_create_validates(make_device):
    """device_id must be a slug and unique."""
    from django.core.exceptions import ValidationError

    make_device("esp32-001")
    with pytest.raises(ValidationError, match="already exists"):
        make_device("esp32-001")
    with pytest.raises(ValidationError):
        make_device("not a slug!")


def test_authenticate_checks_key_and_state(make_device):
    """The right key authenticates; wrong key, unknown device and disabled device do not."""
    from captures.errors import DeviceAuthenticationFailed
    from captures.errors import DeviceInactive

    device, key = make_device("esp32-001")
    assert services.device_authenticate(device_id="esp32-001", api_key=key) == device
    with pytest.raises(DeviceAuthenticationFailed):
        services.device_authenticate(device_id="esp32-001", api_key=key + "x")
    with pytest.raises(DeviceAuthenticationFailed):
        services.device_authenticate(device_id="esp32-404", api_key=key)
    services.device_update(device=device, is_active=False)
    with pytest.raises(DeviceInactive):
        services.device_authenticate(device_id="esp32-001", api_key=key)


def test_any_image_can_be_analysed_without_storing_anything(device_and_key):
    """image_analyze (for other apps, e.g. video frames) returns the facts, stores nothing."""
    facts = services.image_analyze(image=images.qr_png("frame-7"), ocr=False)
    assert [code["value"] for code in facts["codes"]] == ["frame-7"]
    assert "qr" in facts["labels"] and facts["width"] == 640
    assert Observation.objects.count() == 0
