"""Upload to export through a real worker process, Redis and the database."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import ProcessingJob
from photos.models import Export
from photos.models import Photo
from photos.tests import images

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("shared_presets"),
]


def finished(photo_ids):
    def check():
        photos = Photo.objects.filter(pk__in=photo_ids)
        done = [photo for photo in photos if photo.status != Photo.Status.PENDING]
        return len(done) == len(photo_ids)

    return check


def job_done(**filters):
    def check():
        jobs = ProcessingJob.objects.filter(**filters)
        return jobs.exists() and all(job.status == "completed" for job in jobs)

    return check


def test_a_shoot_goes_from_upload_to_groups_developments_and_an_export(
    start_worker, user_client, settings, wait
):
    """Uploads are analysed by a worker (thumbnail and preview once), the session is
    grouped when its last photo is through, a session submission with auto_select
    develops every photo with its selected preset, and an export is rendered; a
    truncated file fails with its reason instead of stopping anything."""
    start_worker(
        queues="high,medium,low",
        concurrency=1,
        env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)},
    )
    cat = images.photograph("chelsea", size=600)
    files = [
        SimpleUploadedFile("cat-1.jpg", images.jpeg_with_exif(cat)),
        SimpleUploadedFile("cat-2.jpg", images.encode(images.near_duplicate(cat))),
        SimpleUploadedFile(
            "rocket.jpg", images.encode(images.photograph("rocket", size=600))
        ),
        SimpleUploadedFile(
            "cut.jpg", images.truncated(images.encode(images.photograph(size=700)), 0.4)
        ),
    ]

    uploaded = user_client.post(
        "/api/v1/photos/", {"files": files, "session_name": "Burst"}, format="multipart"
    )

    assert uploaded.status_code == 201, uploaded.content
    ids = {entry["name"]: entry["photo"]["id"] for entry in uploaded.json()["files"]}
    session_id = uploaded.json()["files"][0]["photo"]["session"]
    wait(finished(list(ids.values())), timeout_s=60, message="photos not analysed")
    wait(job_done(job_type="photos.group"), timeout_s=30, message="not grouped")

    cut = Photo.objects.get(pk=ids["cut.jpg"])
    assert cut.status == Photo.Status.FAILED
    assert "truncated" in cut.error_message
    failed_job = ProcessingJob.objects.get(
        job_type="photos.analyze", object_id=str(cut.pk)
    )
    status = user_client.get(f"/queue/status/{failed_job.task_id}").json()
    assert (status["state"], status["photo_id"]) == ("FAILURE", cut.pk)
    assert "truncated" in status["error"]

    first = Photo.objects.get(pk=ids["cat-1.jpg"])
    assert first.camera_model == "Canon EOS R6"
    assert first.score is not None
    analysis = ProcessingJob.objects.get(
        job_type="photos.analyze", object_id=str(first.pk)
    )
    done = user_client.get(f"/queue/status/{analysis.task_id}").json()
    assert done["state"] == "SUCCESS"
    assert {"decode", "exif", "quality", "context", "preset"} <= set(
        done["result"]["stages_ms"]
    )
    detail = user_client.get(f"/api/v1/photos/{first.pk}/").json()
    assert user_client.get(detail["thumbnail_url"]).status_code == 200

    (group,) = user_client.get(f"/api/v1/groups/?session={session_id}").json()[
        "results"
    ]
    assert {photo["id"] for photo in group["photos"]} == {
        ids["cat-1.jpg"],
        ids["cat-2.jpg"],
    }
    assert sum(photo["is_best_in_group"] for photo in group["photos"]) == 1

    submitted = user_client.post(
        f"/queue/session/{session_id}", {"auto_select": True}, format="json"
    )
    assert submitted.status_code == 202
    wait(
        lambda: ProcessingJob.objects.filter(job_type="photos.apply_preset").count()
        == 3
        and job_done(job_type="photos.apply_preset")(),
        timeout_s=60,
        message="photos not developed",
    )
    best = Photo.objects.get(pk=group["best_photo"])
    assert best.developed and best.sidecar
    assert best.developed_preset_id == best.preset_id
    sidecar = user_client.get(f"/api/v1/photos/{best.pk}/sidecar/")
    assert b"crs:" in b"".join(sidecar.streaming_content)

    export = user_client.post(
        "/api/v1/exports/",
        {"photo": best.pk, "format": "JPEG", "long_edge": 400},
        format="json",
    ).json()
    wait(
        lambda: Export.objects.get(pk=export["id"]).status == Export.Status.COMPLETED,
        timeout_s=30,
        message="export not rendered",
    )
    download = user_client.get(f"/api/v1/exports/{export['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\xff\xd8")
