"""The admin pages of videos, renditions, profiles and uploads; actions go through services."""

import pytest
from django.urls import reverse

from jobs.models import ProcessingJob
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.tests.factories import UploadFactory
from videos.tests.test_services import run_job

pytestmark = pytest.mark.django_db


def test_video_pages_show_poster_duration_renditions_and_a_player(
    admin_client, make_video
):
    video = make_video("numbered.mp4")
    rendition = video.renditions.get()
    run_job(
        ProcessingJob.objects.get(object_id=str(video.pk), job_type="videos.thumbnail")
    )
    Rendition.objects.filter(pk=rendition.pk).update(status="running", progress=42)

    listing = admin_client.get(reverse("admin:videos_video_changelist"))
    running = admin_client.get(reverse("admin:videos_video_change", args=[video.pk]))
    run_job(ProcessingJob.objects.get(id=rendition.job_id))
    ready = admin_client.get(reverse("admin:videos_video_change", args=[video.pk]))

    assert listing.status_code == 200
    text = listing.content.decode()
    assert "0:03.0" in text  # duration
    assert "width:42%" in text  # the running rendition's progress bar
    assert f"/admin/videos/video/{video.pk}/media/thumbnail" in text
    assert "not playable yet" in running.content.decode()
    page = ready.content.decode()
    assert "<video controls" in page
    assert f"/admin/videos/video/{video.pk}/media/proxy" in page


def test_admin_media_route_serves_ranges_to_staff_only(
    admin_client, client, make_video
):
    video = make_video("numbered.mp4")
    url = reverse("admin:videos_video_media", args=[video.pk, "original"])

    part = admin_client.get(url, HTTP_RANGE="bytes=0-9")

    assert part.status_code == 206
    assert len(b"".join(part.streaming_content)) == 10
    assert client.get(url).status_code == 302  # to the login page
    assert (
        admin_client.get(
            reverse("admin:videos_video_media", args=[video.pk, "x"])
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("action", "job_type"),
    [
        ("rerun_metadata", "videos.metadata"),
        ("rerun_thumbnail", "videos.thumbnail"),
        ("rerun_proxy", "videos.proxy"),
        ("rerun_analysis", "videos.analyze"),
    ],
)
def test_rerun_actions_queue_jobs(admin_client, make_video, action, job_type):
    video = make_video("numbered.mp4")
    ProcessingJob.objects.filter(status="queued").update(status="completed")

    answer = admin_client.post(
        reverse("admin:videos_video_changelist"),
        {"action": action, "_selected_action": [str(video.pk)]},
    )

    assert answer.status_code == 302
    assert ProcessingJob.objects.filter(job_type=job_type, status="queued").count() == 1


def test_profile_admin_saves_through_the_service(admin_client):
    answer = admin_client.post(
        reverse("admin:videos_encodingprofile_add"),
        {
            "slug": "hd",
            "name": "HD",
            "description": "",
            "height": 720,
            "fps": 30,
            "preset": "fast",
            "crf": 23,
            "keyframe_interval_s": 2,
            "audio_bitrate": 128000,
            "max_audio_channels": 2,
            "is_default": "on",
            "is_active": "on",
        },
    )

    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert EncodingProfile.objects.get(is_default=True).slug == "hd"


def test_upload_and_rendition_pages_render(admin_client, make_video):
    upload = UploadFactory()
    rendition = make_video("numbered.mp4").renditions.get()

    assert (
        admin_client.get(
            reverse("admin:videos_upload_change", args=[upload.pk])
        ).status_code
        == 200
    )
    assert (
        admin_client.get(
            reverse("admin:videos_rendition_change", args=[rendition.pk])
        ).status_code
        == 200
    )
    aborted = admin_client.post(
        reverse("admin:videos_upload_changelist"),
        {"action": "abort", "_selected_action": [str(upload.pk)]},
    )
    assert aborted.status_code == 302
    upload.refresh_from_db()
    assert upload.status == "aborted"
