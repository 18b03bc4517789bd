"""Videos through real processes: gunicorn for uploads (tuspy, a real tus client), a real
`video` worker for metadata, thumbnails and proxies, Redis, the database, S3 (moto)."""

import hashlib
import io
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from celery import current_app as celery_app
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.authtoken.models import Token
from tusclient import client as tus_client
from tusclient.uploader import Uploader

from jobs import services as job_services
from jobs.models import ProcessingJob
from videos import services
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Upload
from videos.models import Video
from videos.tests import clips
from videos.tests.conftest import media_files
from videos.tests.conftest import work_files
from videos.tests.conftest import worker_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUES = "video,low"
ORIGINAL_STATUS_KEYS = {
    "job_id",
    "job_type",
    "video_id",
    "status",
    "progress",
    "message",
    "started",
    "completed",
    "duration",
    "error",
    "result",
    "queued",
    "state",
    "task_id",
    "attempts",
}


class Sha256Uploader(Uploader):
    """tuspy's uploader with sha256 for Upload-Checksum (its default is sha1)."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def job_status(job_id) -> str:
    return ProcessingJob.objects.get(id=job_id).status


def wait_job(wait, job_id, timeout_s: float = 60) -> ProcessingJob:
    wait(
        lambda: job_status(job_id) in ("completed", "failed", "cancelled"),
        timeout_s=timeout_s,
        interval_s=0.1,
        message=f"job {job_id} did not finish",
    )
    return ProcessingJob.objects.get(id=job_id)


def send_partial_patch(
    url: str, token: str, offset: int, body: bytes, sent: int
) -> None:
    """A PATCH whose connection drops after `sent` of its `len(body)` bytes."""
    parts = urlsplit(url)
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Token {token}\r\nTus-Resumable: 1.0.0\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Upload-Offset: {offset}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port)) as connection:
        connection.sendall(head.encode() + body[:sent])
        time.sleep(0.2)


def ffmpeg_processes_in(folder: str) -> list[int]:
    """Running ffmpeg processes whose command line names a path under `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if (
            b"ffmpeg" in command
            and folder.encode() in command
            and clips.is_alive(int(entry.name))
        ):
            found.append(int(entry.name))
    return found


def test_tus_upload_interrupted_and_resumed_with_tuspy_then_processed(
    start_gunicorn, start_worker, wait, user, clip, settings
):
    """tuspy uploads part of the file, a PATCH breaks off at an odd byte, a new tuspy
    uploader resumes from the server's offset; the video worker then reads the
    metadata, makes the exact thumbnail and the 480p/10 fps proxy with audio, and
    /jobs/{id}/status tells it in the original shape."""
    token = Token.objects.create(user=user).key
    server = start_gunicorn(env=worker_env(settings))
    start_worker(queues=QUEUES, concurrency=1, env=worker_env(settings))
    path = clip("hd.mp4")
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    chunk = 8 * 1024
    tus = tus_client.TusClient(
        f"{server.url}/api/v1/videos/uploads/",
        headers={"Authorization": f"Token {token}"},
    )
    first = Sha256Uploader(
        file_path=str(path),
        client=tus,
        chunk_size=chunk,
        metadata={"filename": "harbour.mp4", "title": "Harbour", "sha256": digest},
        upload_checksum=True,
    )

    first.upload(stop_at=3 * chunk)
    offset = 3 * chunk
    cut_after = len(content) // 5 + 7  # an odd byte, mid-request
    send_partial_patch(
        first.url,
        token,
        offset,
        content[offset : offset + len(content) // 2],
        cut_after,
    )
    wait(
        lambda: Upload.objects.get().received_bytes == offset + cut_after,
        timeout_s=10,
        message="the partial PATCH was not kept",
    )
    resumed = Sha256Uploader(
        file_path=str(path),
        url=first.url,
        client=tus,
        chunk_size=chunk,
        upload_checksum=True,
    )
    assert resumed.offset == offset + cut_after
    resumed.upload()

    state = requests.get(
        first.url, headers={"Authorization": f"Token {token}"}, timeout=10
    ).json()
    assert state["status"] == "completed", state
    video = Video.objects.get(pk=state["video_id"])
    assert video.sha256 == digest
    assert (video.title, video.original_filename) == ("Harbour", "harbour.mp4")
    with default_storage.open(video.original.name) as original:
        assert original.read() == content
    status_url = f"{server.url}/jobs/{state['processing_job_id']}/status"
    early = requests.get(
        status_url, headers={"Authorization": f"Token {token}"}, timeout=10
    )
    assert early.status_code == 200
    assert set(early.json()) == ORIGINAL_STATUS_KEYS
    assert early.json()["job_type"] == "proxy_generation"

    proxy_job = wait_job(wait, state["processing_job_id"])
    assert proxy_job.status == "completed", proxy_job.error_message
    done = requests.get(
        status_url, headers={"Authorization": f"Token {token}"}, timeout=10
    ).json()
    assert done["status"] == "completed"
    assert done["progress"] == 100
    assert done["video_id"] == str(video.id)
    assert done["started"] and done["completed"] and done["duration"] > 0
    assert done["error"] is None
    assert (
        done["result"]["proxy_path"] == f"videos/{video.id}/renditions/proxy-480p.mp4"
    )
    proxy = done["result"]["metadata"]
    assert (proxy["width"], proxy["height"], proxy["fps"]) == (854, 480, 10)
    assert (proxy["video_codec"], proxy["audio_codec"]) == ("h264", "aac")
    assert proxy["is_faststart"] is True

    thumbnail_job = ProcessingJob.objects.get(
        object_id=str(video.id), job_type="videos.thumbnail"
    )
    assert wait_job(wait, thumbnail_job.id).status == "completed"
    video.refresh_from_db()
    with default_storage.open(video.thumbnail.name) as poster:
        assert clips.jpeg_frame_number(poster.read()) == 9
    metadata_job = services.video_reprocess(video=video, jobs=["metadata"])["metadata"]
    metadata = wait_job(wait, metadata_job.id).result["metadata"]
    assert {
        key: metadata[key]
        for key in (
            "width",
            "height",
            "duration_s",
            "fps",
            "frame_count",
            "video_codec",
        )
    } == {
        "width": 960,
        "height": 540,
        "duration_s": 3.0,
        "fps": 30.0,
        "frame_count": 90,
        "video_codec": "h264",
    }
    assert (
        metadata["audio_codec"],
        metadata["audio_channels"],
        metadata["audio_sample_rate"],
    ) == (
        "aac",
        2,
        48000,
    )
    assert video.status == Video.Status.READY
    player = requests.get(
        f"{server.url}/api/v1/videos/{video.id}/proxy/",
        headers={"Authorization": f"Token {token}", "Range": "bytes=0-1023"},
        timeout=10,
    )
    assert player.status_code == 206
    assert len(player.content) == 1024


def test_multipart_out_of_order_then_a_damaged_original_fails_cleanly(
    start_worker, wait, user, user_client, clip, settings
):
    """Parts sent out of order make the video the worker processes; later, a truncated
    original fails its job at once with a clear error, and the worker lives on."""
    worker = start_worker(queues=QUEUES, concurrency=1, env=worker_env(settings))
    settings.VIDEOS_MULTIPART_MIN_PART_BYTES = 1024
    content = clip("numbered.mp4").read_bytes()
    part_size = 10 * 1024
    upload = user_client.post(
        "/api/v1/videos/multipart-uploads/",
        {
            "filename": "numbered.mp4",
            "size_bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "part_size_bytes": part_size,
        },
        format="json",
    ).json()
    for number in reversed(range(1, upload["part_count"] + 1)):
        answer = user_client.generic(
            "PUT",
            f"/api/v1/videos/multipart-uploads/{upload['upload_id']}/parts/{number}/",
            data=content[(number - 1) * part_size : number * part_size],
            content_type="application/octet-stream",
        )
        assert answer.status_code == 200, answer.content

    created = user_client.post(upload["complete_url"]).json()

    proxy_job = wait_job(wait, created["processing_job_id"])
    assert proxy_job.status == "completed", proxy_job.error_message
    assert proxy_job.result["metadata"]["height"] == 240
    video = Video.objects.get(pk=created["video_id"])
    with default_storage.open(video.original.name, "wb") as original:
        original.write(content[: len(content) // 2])

    job = services.video_reprocess(video=video, jobs=["metadata"])["metadata"]

    failed = wait_job(wait, job.id, timeout_s=30)
    assert failed.status == "failed"
    assert failed.attempts == 1
    assert "corrupt_video: The file is truncated" in failed.error_message
    video.refresh_from_db()
    assert video.status == Video.Status.FAILED
    assert celery_app.control.ping(destination=[worker.name], timeout=2)


def test_progress_rises_and_cancel_mid_encode_stops_ffmpeg_and_leaves_nothing(
    start_worker, wait, make_video, user_client, settings
):
    """A slow encode reports rising progress; cancelling its task stops ffmpeg within a
    second, leaves no partial file and marks the rendition; the retried job starts
    clean."""
    services.profile_save(
        profile=EncodingProfile.objects.get(is_default=True), preset="veryslow"
    )
    start_worker(queues=QUEUES, concurrency=1, env=worker_env(settings))
    video = make_video("long.mp4")
    rendition = video.renditions.get()
    seen = []

    def progressed_enough():
        percent = Rendition.objects.get(pk=rendition.pk).progress
        if not seen or percent != seen[-1]:
            seen.append(percent)
        return len([p for p in seen if p > 0]) >= 3

    wait(progressed_enough, timeout_s=60, interval_s=0.05, message="no progress")
    assert seen == sorted(seen)
    assert 0 < seen[-1] < 100
    job = ProcessingJob.objects.get(id=rendition.job_id)
    assert job.status == "running"
    assert 0 < job.progress < 100
    assert "encoding: frame" in job.progress_message
    assert ffmpeg_processes_in(settings.VIDEOS_WORK_DIR)

    asked = time.monotonic()
    # The engine's cancel (as from the admin or any tasks client): the worker's
    # process is terminated; the rendition learns it from its own job.
    answer = user_client.delete(f"/api/v1/tasks/{job.task_id}/")

    assert answer.status_code == 200, answer.content
    wait(
        lambda: not ffmpeg_processes_in(settings.VIDEOS_WORK_DIR),
        timeout_s=5,
        interval_s=0.05,
        message="ffmpeg still runs",
    )
    assert time.monotonic() - asked < 1.5
    wait(lambda: not work_files(settings), timeout_s=5, message="partial files left")
    assert job_status(job.id) == "cancelled"
    wait(
        lambda: Rendition.objects.get(pk=rendition.pk).status == "cancelled",
        timeout_s=5,
        message="the rendition was not marked cancelled",
    )
    rendition.refresh_from_db()
    assert not any("renditions" in str(path) for path in media_files(settings))

    profile = rendition.profile
    services.profile_save(profile=profile, preset="ultrafast")
    job_services.job_retry(job_id=job.id)
    retried = wait_job(wait, job.id)
    assert retried.status == "completed", retried.error_message
    rendition.refresh_from_db()
    assert rendition.status == Rendition.Status.READY
    assert default_storage.exists(rendition.file.name)


def test_proxy_through_an_s3_bucket(
    s3_media, start_worker, wait, make_video, user_client, settings
):
    """The original in the bucket, a worker that shares only the bucket makes the proxy
    there, and the API serves byte ranges of it from the bucket."""
    start_worker(
        queues=QUEUES,
        concurrency=1,
        env={**worker_env(settings), **s3_media.env},
    )
    video = make_video("hd.mp4")
    rendition = video.renditions.get()
    assert f"media/{video.original.name}" in s3_media.object_keys()

    job = wait_job(wait, rendition.job_id)

    assert job.status == "completed", job.error_message
    rendition.refresh_from_db()
    assert f"media/{rendition.file.name}" in s3_media.object_keys()
    assert (rendition.width, rendition.height) == (854, 480)
    answer = user_client.get(
        f"/api/v1/renditions/{rendition.pk}/file/", HTTP_RANGE="bytes=0-99"
    )
    assert answer.status_code == 206
    body = b"".join(answer.streaming_content)
    assert len(body) == 100
    assert body[4:8] == b"ftyp"
    assert work_files(settings) == []
    thumbnail = ProcessingJob.objects.get(
        object_id=str(video.id), job_type="videos.thumbnail"
    )
    assert wait_job(wait, thumbnail.id).status == "completed"
    video.refresh_from_db()
    with default_storage.open(video.thumbnail.name) as poster:
        assert Image.open(io.BytesIO(poster.read())).size[0] > 0
