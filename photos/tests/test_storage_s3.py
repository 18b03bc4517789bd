"""Photos on an S3-compatible bucket: web and worker share no disk, only the bucket."""

import pytest

from jobs.models import ProcessingJob
from photos import services
from photos.models import Photo
from photos.tests import images

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("shared_presets"),
]


def test_import_analysis_and_files_through_the_bucket(
    s3_media, start_worker, user, user_client, wait
):
    """The original goes to the bucket; a worker given only the bucket's address reads
    it, stores the thumbnail and preview there, and the API serves them from it."""
    start_worker(queues="high,medium,low", concurrency=1, env=s3_media.env)

    photo = services.photo_import(
        owner=user,
        data=images.jpeg_with_exif(images.photograph("coffee", size=900)),
        name="coffee.jpg",
    ).photo

    assert s3_media.object_keys() == [f"media/{photo.original.name}"]
    wait(
        lambda: Photo.objects.get(pk=photo.pk).status != Photo.Status.PENDING,
        timeout_s=60,
        message="photo not analysed",
    )
    photo.refresh_from_db()
    assert photo.status == Photo.Status.ANALYZED, photo.error_message
    assert photo.camera_model == "Canon EOS R6"
    assert sorted(s3_media.object_keys()) == sorted(
        f"media/{name}"
        for name in (photo.original.name, photo.thumbnail.name, photo.preview.name)
    )
    wait(
        lambda: ProcessingJob.objects.get(
            job_type="photos.exif", object_id=str(photo.pk)
        ).status
        == "completed",
        timeout_s=20,
    )
    preview = user_client.get(f"/api/v1/photos/{photo.pk}/preview/")
    assert preview.status_code == 200
    assert b"".join(preview.streaming_content).startswith(b"\xff\xd8")
