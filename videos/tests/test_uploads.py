"""The three upload paths over HTTP (Django's test client): tus, multipart, one request."""

import base64
import hashlib
import io
import random
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jobs.models import ProcessingJob
from videos import services
from videos.models import Upload
from videos.models import UploadPart
from videos.models import Video
from videos.services.uploads import upload_folder
from videos.storage_io import MeteredReader
from videos.storage_io import save_stream
from videos.tests.conftest import media_files
from videos.tests.conftest import work_files

pytestmark = pytest.mark.django_db

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
UPLOADS = "/api/v1/videos/uploads/"
MULTIPART = "/api/v1/videos/multipart-uploads/"
OFFSET_STREAM = "application/offset+octet-stream"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tus_create(client, size: int, **metadata: str):
    header = ",".join(f"{key} {b64(value)}" for key, value in metadata.items())
    extra = {"HTTP_UPLOAD_METADATA": header} if header else {}
    return client.post(UPLOADS, HTTP_UPLOAD_LENGTH=str(size), **TUS, **extra)


def tus_patch(client, url: str, offset: int, body: bytes, **headers):
    return client.generic(
        "PATCH",
        url,
        data=body,
        content_type=OFFSET_STREAM,
        HTTP_UPLOAD_OFFSET=str(offset),
        **TUS,
        **headers,
    )


def tus_head(client, url: str):
    return client.head(url, **TUS)


# tus ---------------------------------------------------------------------------------


def test_options_announces_version_extensions_size_and_checksums(anon_client, settings):
    answer = anon_client.options(UPLOADS)

    assert answer.status_code == 204
    assert answer["Tus-Resumable"] == "1.0.0"
    assert answer["Tus-Version"] == "1.0.0"
    assert set(answer["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    }
    assert answer["Tus-Max-Size"] == str(settings.VIDEOS_MAX_UPLOAD_BYTES)
    assert answer["Tus-Checksum-Algorithm"] == "sha256,sha1"


def test_tus_upload_in_pieces_at_odd_offsets_becomes_a_video(
    user_client, user, clip, django_capture_on_commit_callbacks
):
    content = clip("numbered.mp4").read_bytes()
    digest = hashlib.sha256(content).hexdigest()

    created = tus_create(
        user_client,
        len(content),
        filename="holiday.mp4",
        title="Holiday",
        sha256=digest,
    )

    assert created.status_code == 201, created.content
    url = created["Location"]
    assert url.startswith("http://testserver/api/v1/videos/uploads/")
    assert created["Tus-Resumable"] == "1.0.0"
    assert "GMT" in created["Upload-Expires"]
    offset = 0
    for size in (1, 13, 1000, 4096):
        answer = tus_patch(user_client, url, offset, content[offset : offset + size])
        assert answer.status_code == 204, answer.content
        offset += size
        assert answer["Upload-Offset"] == str(offset)
        assert "Upload-Expires" in answer
    head = tus_head(user_client, url)
    assert head.status_code == 200
    assert head["Upload-Offset"] == str(offset)
    assert head["Upload-Length"] == str(len(content))
    assert head["Cache-Control"] == "no-store"
    assert "filename " in head["Upload-Metadata"]

    with django_capture_on_commit_callbacks(execute=True):
        last = tus_patch(user_client, url, offset, content[offset:])

    assert last.status_code == 204, last.content
    assert last["Upload-Offset"] == str(len(content))
    video = Video.objects.get()
    assert last["Video-Id"] == str(video.id)
    proxy_job = ProcessingJob.objects.get(id=last["Processing-Job-Id"])
    assert proxy_job.job_type == "videos.proxy"
    assert (video.title, video.original_filename, video.owner) == (
        "Holiday",
        "holiday.mp4",
        user,
    )
    assert video.sha256 == digest
    assert video.upload_method == "tus"
    with default_storage.open(video.original.name) as original:
        assert original.read() == content
    upload = Upload.objects.get()
    assert upload.status == "completed"
    assert upload.video == video
    assert UploadPart.objects.count() == 0
    assert not default_storage.exists(f"video-uploads/{upload.id}/")
    state = user_client.get(url)
    assert state.json()["video_id"] == str(video.id)
    assert state.json()["processing_job_id"] == str(proxy_job.id)


def test_creation_with_upload_takes_the_first_bytes(user_client, clip):
    content = clip("numbered.mp4").read_bytes()

    created = user_client.post(
        UPLOADS,
        data=content[:500],
        content_type=OFFSET_STREAM,
        HTTP_UPLOAD_LENGTH=str(len(content)),
        **TUS,
    )

    assert created.status_code == 201, created.content
    assert created["Upload-Offset"] == "500"


def test_patch_at_the_wrong_offset_is_a_conflict_and_stores_nothing(user_client, clip):
    content = clip("numbered.mp4").read_bytes()
    url = tus_create(user_client, len(content))["Location"]
    tus_patch(user_client, url, 0, content[:100])

    answer = tus_patch(user_client, url, 50, content[50:200])

    assert answer.status_code == 409
    assert answer.json()["error"] == "upload_conflict"
    assert tus_head(user_client, url)["Upload-Offset"] == "100"
    assert UploadPart.objects.count() == 1


def test_checksum_of_each_patch_is_verified_sha256_and_sha1(user_client, clip):
    content = clip("numbered.mp4").read_bytes()
    url = tus_create(user_client, len(content))["Location"]
    good = base64.b64encode(hashlib.sha256(content[:100]).digest()).decode()
    sha1 = base64.b64encode(hashlib.sha1(content[100:200]).digest()).decode()
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()

    assert (
        tus_patch(
            user_client, url, 0, content[:100], HTTP_UPLOAD_CHECKSUM=f"sha256 {good}"
        ).status_code
        == 204
    )
    mismatch = tus_patch(
        user_client, url, 100, content[100:200], HTTP_UPLOAD_CHECKSUM=f"sha256 {wrong}"
    )
    assert mismatch.status_code == 460
    assert mismatch.reason_phrase == "Checksum Mismatch"
    assert tus_head(user_client, url)["Upload-Offset"] == "100"
    assert (
        tus_patch(
            user_client, url, 100, content[100:200], HTTP_UPLOAD_CHECKSUM=f"sha1 {sha1}"
        ).status_code
        == 204
    )
    unknown = tus_patch(user_client, url, 200, b"x", HTTP_UPLOAD_CHECKSUM="md5 AAAA")
    assert unknown.status_code == 400


def test_a_whole_file_checksum_mismatch_fails_the_upload_before_any_video(
    user_client, clip, settings
):
    content = clip("numbered.mp4").read_bytes()
    url = tus_create(user_client, len(content), sha256="0" * 64)["Location"]

    answer = tus_patch(user_client, url, 0, content)

    assert answer.status_code == 422
    assert answer.json()["error"] == "upload_verification_failed"
    assert Video.objects.count() == 0
    assert Upload.objects.get().status == "failed"
    assert tus_head(user_client, url).status_code == 410
    assert media_files(settings) == []
    assert work_files(settings) == []


def test_an_upload_that_is_no_video_is_refused_at_its_first_bytes(user_client):
    url = tus_create(user_client, 10_000, filename="notes.txt")["Location"]

    answer = tus_patch(user_client, url, 0, b"#EXTM3U\nhttp://example.invalid/a.ts\n")

    assert answer.status_code == 415
    assert "HLS playlist" in answer.json()["detail"]
    assert tus_head(user_client, url).status_code == 410


def test_a_truncated_video_is_refused_when_complete(user_client, truncated):
    content = truncated("numbered.mp4").read_bytes()
    url = tus_create(user_client, len(content))["Location"]

    answer = tus_patch(user_client, url, 0, content)

    assert answer.status_code == 422
    assert answer.json()["error"] == "corrupt_video"
    assert Video.objects.count() == 0


def test_create_refuses_missing_length_oversize_and_bad_metadata(user_client, settings):
    settings.VIDEOS_MAX_UPLOAD_BYTES = 1000

    assert user_client.post(UPLOADS, **TUS).status_code == 400
    assert user_client.post(UPLOADS, HTTP_UPLOAD_LENGTH="-5", **TUS).status_code == 400
    too_big = user_client.post(UPLOADS, HTTP_UPLOAD_LENGTH="1001", **TUS)
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "video_limit_exceeded"
    bad = user_client.post(
        UPLOADS, HTTP_UPLOAD_LENGTH="10", HTTP_UPLOAD_METADATA="name !!!", **TUS
    )
    assert bad.status_code == 400
    deferred = user_client.post(UPLOADS, HTTP_UPLOAD_DEFER_LENGTH="1", **TUS)
    assert deferred.status_code == 400
    assert Upload.objects.count() == 0


def test_requests_without_the_tus_version_get_412(user_client):
    answer = user_client.post(UPLOADS, HTTP_UPLOAD_LENGTH="10")

    assert answer.status_code == 412
    assert answer["Tus-Version"] == "1.0.0"


def test_patch_needs_the_offset_content_type(user_client):
    url = tus_create(user_client, 100)["Location"]

    answer = user_client.generic(
        "PATCH",
        url,
        data=b"x",
        content_type="application/json",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )

    assert answer.status_code in (400, 415)


def test_a_body_past_the_announced_length_is_refused(user_client):
    url = tus_create(user_client, 10)["Location"]

    answer = tus_patch(user_client, url, 0, b"x" * 11)

    assert answer.status_code == 413
    assert tus_head(user_client, url)["Upload-Offset"] == "0"


def test_delete_terminates_the_upload_and_its_parts(user_client, clip, settings):
    content = clip("numbered.mp4").read_bytes()
    url = tus_create(user_client, len(content))["Location"]
    tus_patch(user_client, url, 0, content[:1000])
    assert media_files(settings)

    assert user_client.delete(url, **TUS).status_code == 204

    assert tus_head(user_client, url).status_code == 410
    assert tus_patch(user_client, url, 1000, content[1000:]).status_code == 410
    assert media_files(settings) == []


def test_method_override_lets_post_only_clients_patch(user_client, clip):
    content = clip("numbered.mp4").read_bytes()
    url = tus_create(user_client, len(content))["Location"]

    answer = user_client.post(
        url,
        data=content[:10],
        content_type=OFFSET_STREAM,
        HTTP_X_HTTP_METHOD_OVERRIDE="PATCH",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )

    assert answer.status_code == 204
    assert answer["Upload-Offset"] == "10"


def test_expired_uploads_answer_410_and_lose_their_parts(user_client, clip, settings):
    content = clip("numbered.mp4").read_bytes()
    url = tus_create(user_client, len(content))["Location"]
    tus_patch(user_client, url, 0, content[:100])
    Upload.objects.update(expires_at=timezone.now())

    assert tus_head(user_client, url).status_code == 410
    assert Upload.objects.get().status == "expired"
    assert media_files(settings) == []


def test_the_periodic_job_expires_abandoned_uploads(user, settings, clip):
    head = clip("numbered.mp4").read_bytes()[:50]
    tus_upload = services.upload_create(owner=user, protocol="tus", size_bytes=100)
    services.upload_append(
        upload=tus_upload, offset=0, stream=io.BytesIO(head), length=50
    )
    kept = services.upload_create(owner=user, protocol="multipart", size_bytes=100)
    Upload.objects.exclude(pk=kept.pk).update(expires_at=timezone.now())

    assert services.videos_housekeeping()["uploads_expired"] == 1

    tus_upload.refresh_from_db()
    assert tus_upload.status == "expired"
    assert UploadPart.objects.count() == 0
    assert media_files(settings) == []


def test_uploads_are_private_to_their_owner(user_client, client_for_other, clip):
    url = tus_create(user_client, 100)["Location"]

    assert tus_head(client_for_other, url).status_code == 404
    assert tus_patch(client_for_other, url, 0, b"x").status_code == 404
    assert client_for_other.delete(url, **TUS).status_code == 404


def test_anonymous_clients_cannot_create_uploads(anon_client):
    assert anon_client.post(UPLOADS, HTTP_UPLOAD_LENGTH="10", **TUS).status_code == 401


# multipart ---------------------------------------------------------------------------


def initiate(client, content: bytes, **fields):
    body = {
        "filename": "drone.mp4",
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **fields,
    }
    return client.post(MULTIPART, body, format="json")


def put_part(client, upload_id, number: int, body: bytes, **headers):
    return client.generic(
        "PUT",
        f"{MULTIPART}{upload_id}/parts/{number}/",
        data=body,
        content_type="application/octet-stream",
        **headers,
    )


def test_multipart_parts_in_any_order_resent_part_idempotent_then_complete(
    user_client, clip, settings, django_capture_on_commit_callbacks
):
    settings.VIDEOS_MULTIPART_MIN_PART_BYTES = 1024
    content = clip("numbered.mp4").read_bytes()
    part_size = 16 * 1024

    started = initiate(user_client, content, part_size_bytes=part_size, title="Drone")

    assert started.status_code == 201, started.content
    upload = started.json()
    count = upload["part_count"]
    assert count == -(-len(content) // part_size) > 2
    assert upload["part_url_template"].endswith("/parts/{part_number}/")
    numbers = list(range(1, count + 1))
    random.Random(7).shuffle(numbers)
    for number in numbers:
        chunk = content[(number - 1) * part_size : number * part_size]
        answer = put_part(user_client, upload["upload_id"], number, chunk)
        assert answer.status_code == 200, answer.content
        assert answer.json()["sha256"] == hashlib.sha256(chunk).hexdigest()
    again = put_part(
        user_client, upload["upload_id"], 2, content[part_size : 2 * part_size]
    )
    assert again.status_code == 200
    state = user_client.get(f"{MULTIPART}{upload['upload_id']}/").json()
    assert state["parts_received"] == list(range(1, count + 1))
    assert state["received_bytes"] == len(content)

    with django_capture_on_commit_callbacks(execute=True):
        done = user_client.post(upload["complete_url"])

    assert done.status_code == 201, done.content
    answer = done.json()
    video = Video.objects.get()
    assert answer["video_id"] == str(video.id)
    assert answer["processing_job_id"] == str(video.renditions.get().job_id)
    assert answer["status_url"].endswith(f"/jobs/{answer['processing_job_id']}/status")
    assert answer["sha256"] == hashlib.sha256(content).hexdigest()
    assert set(answer["jobs"]) == {"thumbnail", "proxy", "analyze"}
    assert video.title == "Drone"
    assert video.upload_method == "multipart"
    with default_storage.open(video.original.name) as original:
        assert original.read() == content
    assert user_client.post(upload["complete_url"]).json()["video_id"] == str(video.id)
    assert [path.name for path in media_files(settings)] == ["original.mp4"]


def test_complete_with_parts_missing_names_them(user_client, clip, settings):
    settings.VIDEOS_MULTIPART_MIN_PART_BYTES = 1024
    content = clip("numbered.mp4").read_bytes()
    upload = initiate(user_client, content, part_size_bytes=16 * 1024).json()
    put_part(user_client, upload["upload_id"], 1, content[: 16 * 1024])

    answer = user_client.post(upload["complete_url"])

    assert answer.status_code == 409
    assert answer.json()["missing_parts"][:2] == [2, 3]


def test_a_part_of_the_wrong_size_or_checksum_is_refused(user_client, clip, settings):
    settings.VIDEOS_MULTIPART_MIN_PART_BYTES = 1024
    content = clip("numbered.mp4").read_bytes()
    upload = initiate(user_client, content, part_size_bytes=16 * 1024).json()

    short = put_part(user_client, upload["upload_id"], 1, content[:100])
    outside = put_part(user_client, upload["upload_id"], 999, content[:100])
    wrong_sum = put_part(
        user_client,
        upload["upload_id"],
        1,
        content[: 16 * 1024],
        HTTP_X_PART_SHA256="0" * 64,
    )

    assert short.status_code == 400
    assert outside.status_code == 400
    assert wrong_sum.status_code == 422
    assert UploadPart.objects.count() == 0


def test_complete_verifies_the_announced_sha256(user_client, clip, settings):
    content = clip("numbered.mp4").read_bytes()
    upload = initiate(user_client, content, sha256="f" * 64).json()
    put_part(user_client, upload["upload_id"], 1, content)

    answer = user_client.post(upload["complete_url"])

    assert answer.status_code == 422
    assert "SHA-256" in answer.json()["detail"]
    assert Video.objects.count() == 0
    assert Upload.objects.get().status == "failed"


def test_abort_deletes_the_parts(user_client, clip, settings):
    content = clip("numbered.mp4").read_bytes()
    upload = initiate(user_client, content).json()
    put_part(user_client, upload["upload_id"], 1, content)

    assert user_client.delete(f"{MULTIPART}{upload['upload_id']}/").status_code == 204

    assert Upload.objects.get().status == "aborted"
    assert media_files(settings) == []
    assert put_part(user_client, upload["upload_id"], 1, content).status_code == 410


def test_initiate_validates_size_sha256_and_part_layout(user_client, settings):
    settings.VIDEOS_MULTIPART_MAX_PARTS = 4
    body = {"filename": "a.mp4", "size_bytes": 10 * 1024 * 1024, "sha256": "a" * 64}

    assert (
        user_client.post(
            MULTIPART, {**body, "sha256": "xyz"}, format="json"
        ).status_code
        == 400
    )
    too_many = user_client.post(
        MULTIPART, {**body, "part_size_bytes": 1024 * 1024}, format="json"
    )
    assert too_many.status_code == 400
    assert "at most 4 parts" in too_many.json()["detail"]
    assert (
        user_client.post(
            MULTIPART, {**body, "size_bytes": 0}, format="json"
        ).status_code
        == 415
    )


def test_multipart_uploads_are_listed_for_their_owner_only(
    user_client, client_for_other, staff_client, clip
):
    content = clip("numbered.mp4").read_bytes()
    upload = initiate(user_client, content).json()

    assert [u["upload_id"] for u in user_client.get(MULTIPART).json()["results"]] == [
        upload["upload_id"]
    ]
    assert client_for_other.get(MULTIPART).json()["results"] == []
    assert client_for_other.get(f"{MULTIPART}{upload['upload_id']}/").status_code == 404
    assert len(staff_client.get(MULTIPART).json()["results"]) == 1


# one request ---------------------------------------------------------------------------


def test_a_small_file_in_one_request_becomes_a_video(user_client, clip):
    content = clip("numbered.mp4").read_bytes()

    answer = user_client.post(
        "/api/v1/videos/",
        {"file": SimpleUploadedFile("walk.mp4", content, "video/mp4"), "title": "Walk"},
        format="multipart",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    video = Video.objects.get()
    assert body["video_id"] == str(video.id)
    assert body["processing_job_id"] == str(video.renditions.get().job_id)
    assert body["video"]["title"] == "Walk"
    assert video.upload_method == "direct"


def test_one_request_uploads_over_the_limit_get_413(user_client, clip, settings):
    settings.VIDEOS_DIRECT_UPLOAD_MAX_BYTES = 1000
    content = clip("numbered.mp4").read_bytes()

    answer = user_client.post(
        "/api/v1/videos/",
        {"file": SimpleUploadedFile("walk.mp4", content, "video/mp4")},
        format="multipart",
    )

    assert answer.status_code == 413
    assert "tus or multipart" in answer.json()["detail"]


def test_one_request_upload_of_a_non_video_gets_415(user_client):
    answer = user_client.post(
        "/api/v1/videos/",
        {"file": SimpleUploadedFile("a.mp4", b"<html>not a video</html>", "video/mp4")},
        format="multipart",
    )

    assert answer.status_code == 415
    assert answer.json()["error"] == "unsupported_media_type"
    assert Video.objects.count() == 0


def test_an_upload_left_assembling_by_a_dead_process_is_finished_by_housekeeping(
    user, clip, django_capture_on_commit_callbacks
):
    content = clip("numbered.mp4").read_bytes()
    upload = services.upload_create(owner=user, protocol="tus", size_bytes=len(content))
    half = len(content) // 2
    services.upload_append(
        upload=upload, offset=0, stream=io.BytesIO(content[:half]), length=half
    )
    # As if the process that took the last bytes died while assembling.
    piece = io.BytesIO(content[half:])
    Upload.objects.filter(pk=upload.pk).update(received_bytes=len(content))
    name = save_stream(
        f"{upload_folder(upload.id)}/last.part",
        MeteredReader(piece, limit=len(content) - half),
    )
    UploadPart.objects.create(
        upload=upload,
        number=2,
        offset_bytes=half,
        size_bytes=len(content) - half,
        name=name,
    )
    Upload.objects.filter(pk=upload.pk).update(
        status="assembling", updated_at=timezone.now() - timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.videos_housekeeping()

    assert outcome["uploads_finished"] == 1
    upload.refresh_from_db()
    assert upload.status == "completed"
    with default_storage.open(upload.video.original.name) as original:
        assert original.read() == content


def test_pieces_received_by_different_processes_are_hashed_when_assembled(
    user_client, clip
):
    """Each PATCH may reach another web process: the running hash is then gone and
    the whole file is hashed from its pieces."""
    from videos.services import uploads

    content = clip("numbered.mp4").read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    url = tus_create(user_client, len(content), sha256=digest)["Location"]
    tus_patch(user_client, url, 0, content[:999])
    uploads._running_hashes.clear()  # as if the next PATCH reached another process

    answer = tus_patch(user_client, url, 999, content[999:])

    assert answer.status_code == 204, answer.content
    assert Video.objects.get().sha256 == digest
