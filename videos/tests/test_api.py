"""The videos REST API: shapes, filters, permissions, media with byte ranges."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from jobs.models import ProcessingJob
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Video
from videos.tests.factories import EncodingProfileFactory
from videos.tests.factories import RenditionFactory
from videos.tests.factories import VideoFactory
from videos.tests.test_services import run_job

pytestmark = pytest.mark.django_db

VIDEOS = "/api/v1/videos/"


def results(answer) -> list[dict]:
    assert answer.status_code == 200, answer.content
    return answer.json()["results"]


# Visibility --------------------------------------------------------------------------


def test_owners_see_their_videos_staff_all_anonymous_none(
    user, other_user, user_client, client_for_other, staff_client, anon_client
):
    mine = VideoFactory(owner=user)
    theirs = VideoFactory(owner=other_user)

    assert [v["id"] for v in results(user_client.get(VIDEOS))] == [str(mine.id)]
    assert {v["id"] for v in results(staff_client.get(VIDEOS))} == {
        str(mine.id),
        str(theirs.id),
    }
    assert user_client.get(f"{VIDEOS}{theirs.id}/").status_code == 404
    assert client_for_other.get(f"{VIDEOS}{mine.id}/original/").status_code == 404
    assert anon_client.get(VIDEOS).status_code == 401


def test_unknown_and_malformed_ids_are_404(user_client):
    assert (
        user_client.get(f"{VIDEOS}00000000-0000-0000-0000-000000000000/").status_code
        == 404
    )
    assert user_client.get(f"{VIDEOS}not-a-uuid/").status_code == 404


# Shapes ---------------------------------------------------------------------------------


def test_detail_has_metadata_renditions_with_urls_timeline_and_jobs(
    make_video, user_client
):
    video = make_video("numbered.mp4")
    run_job(ProcessingJob.objects.get(id=video.renditions.get().job_id))
    Video.objects.filter(pk=video.pk).update(
        timeline={"scene_cuts": [], "frames": [{"at_s": 0, "people_count": 1}]}
    )

    detail = user_client.get(f"{VIDEOS}{video.id}/").json()

    assert detail["status"] == "ready"
    assert detail["metadata"]["fps"] == 30
    assert detail["metadata"]["audio_sample_rate"] == 48000
    assert detail["duration_s"] == 3.0
    assert detail["timeline"]["frames"][0]["people_count"] == 1
    (rendition,) = detail["renditions"]
    assert rendition["profile"] == "proxy-480p"
    assert rendition["is_proxy"] is True
    assert rendition["status"] == "ready"
    assert rendition["url"].endswith(f"/api/v1/renditions/{rendition['id']}/file/")
    assert detail["proxy_url"].endswith(f"/api/v1/videos/{video.id}/proxy/")
    assert detail["original_url"].endswith(f"/api/v1/videos/{video.id}/original/")
    assert detail["thumbnail_url"] is None
    assert {job["job_type"] for job in detail["jobs"]} == {
        "videos.proxy",
        "videos.thumbnail",
        "videos.analyze",
    }


def test_filters_by_status_duration_and_date(user, user_client):
    short = VideoFactory(owner=user, duration_s=5, status="ready")
    long = VideoFactory(owner=user, duration_s=600, status="processing")
    old = VideoFactory(owner=user, duration_s=60, status="ready")
    Video.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    since = (timezone.now() - timedelta(days=1)).isoformat()

    def ids(query: str) -> set[str]:
        return {v["id"] for v in results(user_client.get(f"{VIDEOS}?{query}"))}

    assert ids("status=ready") == {str(short.id), str(old.id)}
    assert ids("duration_min=30") == {str(long.id), str(old.id)}
    assert ids("duration_max=100&duration_min=10") == {str(old.id)}
    assert ids(f"created_after={since.replace('+', '%2B')}") == {
        str(short.id),
        str(long.id),
    }
    assert user_client.get(f"{VIDEOS}?status=bogus").status_code == 400
    assert user_client.get(f"{VIDEOS}?created_after=99999-01-01").status_code == 400


def test_owner_renames_and_deletes_their_video(make_video, user_client, settings):
    video = make_video("numbered.mp4")

    renamed = user_client.patch(f"{VIDEOS}{video.id}/", {"title": "New"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "New"
    assert user_client.delete(f"{VIDEOS}{video.id}/").status_code == 204
    assert not Video.objects.exists()
    assert not default_storage.exists(video.original.name)


def test_reprocess_queues_the_named_jobs(make_video, user_client):
    video = make_video("numbered.mp4")

    answer = user_client.post(
        f"{VIDEOS}{video.id}/reprocess/",
        {"jobs": ["metadata", "thumbnail"], "at_s": 1.5},
        format="json",
    )

    assert answer.status_code == 202, answer.content
    jobs = answer.json()["jobs"]
    assert set(jobs) == {"metadata", "thumbnail"}
    thumbnail = ProcessingJob.objects.get(id=jobs["thumbnail"]["job_id"])
    assert thumbnail.params == {"at_s": 1.5}
    assert thumbnail.priority == 8
    bad = user_client.post(
        f"{VIDEOS}{video.id}/reprocess/", {"jobs": ["x"]}, format="json"
    )
    assert bad.status_code == 400


# Media and ranges -------------------------------------------------------------------


def test_original_is_served_with_byte_ranges(make_video, user_client, clip):
    video = make_video("numbered.mp4")
    content = clip("numbered.mp4").read_bytes()
    url = f"{VIDEOS}{video.id}/original/"

    whole = user_client.get(url)
    part = user_client.get(url, HTTP_RANGE="bytes=100-199")
    tail = user_client.get(url, HTTP_RANGE="bytes=-10")
    beyond = user_client.get(url, HTTP_RANGE=f"bytes={len(content)}-")
    head = user_client.head(url)

    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "video/mp4"
    assert b"".join(whole.streaming_content) == content
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(content)}"
    assert part["Content-Length"] == "100"
    assert b"".join(part.streaming_content) == content[100:200]
    assert b"".join(tail.streaming_content) == content[-10:]
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(content)}"
    assert head.status_code == 200
    assert head["Content-Length"] == str(len(content))


def test_proxy_of_a_skipped_rendition_serves_the_original(
    make_video, user_client, clip
):
    video = make_video("proxy_faststart.mp4")
    run_job(ProcessingJob.objects.get(id=video.renditions.get().job_id))

    answer = user_client.get(f"{VIDEOS}{video.id}/proxy/", HTTP_RANGE="bytes=0-7")

    assert answer.status_code == 206
    assert (
        b"".join(answer.streaming_content)
        == clip("proxy_faststart.mp4").read_bytes()[:8]
    )


def test_media_not_made_yet_is_404(make_video, user_client):
    video = make_video("numbered.mp4")

    assert user_client.get(f"{VIDEOS}{video.id}/proxy/").status_code == 404
    assert user_client.get(f"{VIDEOS}{video.id}/thumbnail/").status_code == 404
    assert user_client.get(f"{VIDEOS}{video.id}/contact-sheet/").status_code == 404


def test_thumbnail_is_served_once_made(user, user_client):
    video = VideoFactory(owner=user, thumbnail="videos/x/thumbnail.jpg")
    default_storage.save("videos/x/thumbnail.jpg", ContentFile(b"\xff\xd8jpeg"))

    answer = user_client.get(f"{VIDEOS}{video.id}/thumbnail/")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/jpeg"


# Renditions and profiles ----------------------------------------------------------


def test_renditions_are_listed_for_the_owner_and_filterable(
    user, other_user, user_client
):
    mine = RenditionFactory(video__owner=user, status="ready")
    RenditionFactory(video__owner=other_user)
    RenditionFactory(video__owner=user, status="failed")

    listed = results(user_client.get("/api/v1/renditions/?status=ready"))

    assert [r["id"] for r in listed] == [mine.id]
    assert listed[0]["video"] == str(mine.video_id)


def test_asking_for_a_rendition_of_another_profile_queues_its_job(
    make_video, user_client
):
    video = make_video("numbered.mp4")
    EncodingProfileFactory(slug="tiny", height=120, fps=5)

    answer = user_client.post(
        "/api/v1/renditions/",
        {"video": str(video.id), "profile": "tiny"},
        format="json",
    )

    assert answer.status_code == 202, answer.content
    rendition = Rendition.objects.get(profile__slug="tiny")
    assert answer.json()["job_id"] == str(rendition.job_id)
    assert ProcessingJob.objects.get(id=rendition.job_id).job_type == "videos.proxy"


def test_cancel_a_rendition_over_the_api(make_video, user_client, client_for_other):
    video = make_video("numbered.mp4")
    rendition = video.renditions.get()

    assert (
        client_for_other.post(f"/api/v1/renditions/{rendition.id}/cancel/").status_code
        == 404
    )
    answer = user_client.post(f"/api/v1/renditions/{rendition.id}/cancel/")

    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    again = user_client.post(f"/api/v1/renditions/{rendition.id}/cancel/")
    assert again.status_code == 409


def test_profiles_are_read_by_users_and_edited_by_staff(user_client, staff_client):
    body = {"slug": "hd", "name": "HD", "height": 720, "fps": 30, "preset": "fast"}

    assert [p["slug"] for p in results(user_client.get("/api/v1/profiles/"))] == [
        "proxy-480p"
    ]
    assert user_client.post("/api/v1/profiles/", body, format="json").status_code == 403
    created = staff_client.post("/api/v1/profiles/", body, format="json")
    assert created.status_code == 201, created.content
    changed = staff_client.patch(
        "/api/v1/profiles/hd/", {"is_default": True}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert EncodingProfile.objects.get(is_default=True).slug == "hd"
    assert (
        staff_client.post(
            "/api/v1/profiles/",
            {**body, "slug": "x", "preset": "instant"},
            format="json",
        ).status_code
        == 400
    )
    assert staff_client.delete("/api/v1/profiles/proxy-480p/").status_code == 204


def test_a_profile_in_use_cannot_be_deleted_over_the_api(staff_client):
    rendition = RenditionFactory()

    answer = staff_client.delete(f"/api/v1/profiles/{rendition.profile.slug}/")

    assert answer.status_code == 409


def test_schema_documents_the_videos_routes(staff_client):
    schema = staff_client.get("/api/schema/?format=json").json()

    paths = schema["paths"]
    assert "/api/v1/videos/uploads/" in paths
    assert "/api/v1/videos/multipart-uploads/{id}/parts/{number}/" in paths
    assert "/jobs/{job_id}/status" in paths
