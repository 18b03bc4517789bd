"""Captures on an S3-compatible bucket: web and workers share no disk, only the bucket."""

from datetime import timedelta

import pytest
from django.utils import timezone

from captures import services
from captures.models import Capture
from captures.tests import images
from jobs.models import ProcessingJob

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_ingest_analysis_and_retention_cleanup_through_the_bucket(
    s3_media, ingest, device_and_key, start_worker, wait, settings
):
    """The image goes to the bucket, a worker (given only the bucket's address) analyses
    it and stores a thumbnail there, and retention cleanup deletes both objects."""
    settings.CAPTURES_OCR_ENABLED = False
    start_worker(
        queues="medium",
        concurrency=1,
        env={**s3_media.env, "CAPTURES_OCR_ENABLED": "false"},
    )
    _, key = device_and_key

    answer = ingest.json(
        device_id="esp32-001", key=key, image=images.qr_png("from-the-bucket")
    )

    assert answer.status_code == 201, answer.content
    capture = Capture.objects.get(public_id=answer.json()["capture_id"])
    assert s3_media.object_keys() == [f"media/{capture.image.name}"]
    job = ProcessingJob.objects.get(id=answer.json()["job_id"])
    wait(
        lambda: ProcessingJob.objects.get(id=job.id).status == "completed",
        timeout_s=60,
    )
    capture.refresh_from_db()
    assert capture.status == "completed"
    assert capture.observations.get().codes[0]["value"] == "from-the-bucket"
    assert sorted(s3_media.object_keys()) == sorted(
        [f"media/{capture.image.name}", f"media/{capture.thumbnail.name}"]
    )

    Capture.objects.filter(pk=capture.pk).update(
        received_at=timezone.now()
        - timedelta(days=settings.CAPTURES_RETENTION_DAYS + 1)
    )
    assert services.captures_cleanup() == {"deleted": 1, "files_deleted": 2}
    assert s3_media.object_keys() == []
