"""The videos services against the database; job types run in-process through the engine."""

import io
import shutil
from datetime import UTC
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from jobs import services as job_services
from jobs.errors import JobStateConflict
from jobs.models import ProcessingJob
from videos import services
from videos.errors import CorruptVideo
from videos.errors import UnsupportedVideo
from videos.errors import VideoLimitExceeded
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Video
from videos.tests import clips
from videos.tests.conftest import media_files
from videos.tests.conftest import work_files

pytestmark = pytest.mark.django_db


def run_job(job: ProcessingJob) -> ProcessingJob:
    """Run a queued job in this process through the engine (claim, run, record)."""
    from jobs.job_types import job_type_get

    job_type_get(job.job_type).task.apply(
        kwargs={"job_id": str(job.id), "generation": job.dispatch_generation},
        task_id=job.task_id,
    )
    job.refresh_from_db()
    return job


def copy_of(clip, name, tmp_path):
    path = tmp_path / f"upload-{name}"
    shutil.copyfile(clip(name), path)
    return path


# Creating a video --------------------------------------------------------------


def test_create_from_file_stores_the_original_reads_metadata_and_queues_jobs(
    clip, tmp_path, user, django_capture_on_commit_callbacks
):
    """The file moves into the video's folder, the header is recorded, and thumbnail,
    proxy and analysis jobs are queued; their messages wait for the commit."""
    path = copy_of(clip, "numbered.mp4", tmp_path)

    with django_capture_on_commit_callbacks() as callbacks:
        created = services.video_create_from_file(
            path=path, owner=user, title="", filename="../evil\x00/clip one.mp4"
        )

    video = created.video
    assert video.original.name == f"videos/{video.id}/original.mp4"
    assert default_storage.exists(video.original.name)
    assert video.original_filename == "clip one.mp4"
    assert video.title == "clip one"
    assert video.status == Video.Status.PROCESSING
    assert (video.width, video.height, video.duration_s, video.fps) == (
        320,
        240,
        3.0,
        30,
    )
    assert (video.video_codec, video.audio_codec, video.container) == (
        "h264",
        "aac",
        "mp4",
    )
    assert video.creation_time == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert video.size_bytes == clip("numbered.mp4").stat().st_size
    assert len(video.sha256) == 64
    assert set(created.jobs) == {"thumbnail", "proxy", "analyze"}
    assert created.processing_job == created.jobs["proxy"]
    assert created.jobs["proxy"].queue == "video"
    assert created.jobs["analyze"].queue == "low"
    rendition = video.renditions.get()
    assert rendition.profile.slug == "proxy-480p"
    assert rendition.job_id == created.jobs["proxy"].id
    assert len(callbacks) == 3  # one message per job, sent on commit


@pytest.mark.parametrize(
    ("maker", "error", "status"),
    [
        (
            lambda d, clip, cut: clips.write_text(
                d / "list.m3u8", "#EXTM3U\nhttp://x/a.ts\n"
            ),
            UnsupportedVideo,
            415,
        ),
        (lambda d, clip, cut: cut("numbered.mp4"), CorruptVideo, 422),
    ],
    ids=["playlist", "truncated"],
)
def test_create_refuses_what_is_not_a_whole_video_and_keeps_nothing(
    maker, error, status, clip, truncated, tmp_path, user, settings
):
    source = maker(tmp_path, clip, truncated)
    path = tmp_path / "upload"
    shutil.copyfile(source, path)

    with pytest.raises(error) as raised:
        services.video_create_from_file(path=path, owner=user, filename="x.mp4")

    assert raised.value.status == status
    assert Video.objects.count() == 0
    assert media_files(settings) == []


def test_create_refuses_a_video_over_the_limits_from_its_header(
    clip, tmp_path, user, settings
):
    settings.VIDEOS_MAX_DURATION_S = 2.0
    path = copy_of(clip, "numbered.mp4", tmp_path)

    with pytest.raises(VideoLimitExceeded, match="3 seconds, more than the 2"):
        services.video_create_from_file(path=path, owner=user, filename="x.mp4")

    assert Video.objects.count() == 0


def test_without_an_active_default_profile_a_video_is_ready_at_once(
    clip, tmp_path, user
):
    EncodingProfile.objects.update(is_default=False, is_auto=False)

    created = services.video_create_from_file(
        path=copy_of(clip, "numbered.mp4", tmp_path), owner=user, filename="a.mp4"
    )

    assert created.video.status == Video.Status.READY
    assert "proxy" not in created.jobs
    assert created.processing_job == created.jobs["thumbnail"]


def test_auto_profiles_get_a_rendition_each(clip, tmp_path, user):
    services.profile_save(slug="small", name="Small", height=144, fps=5, is_auto=True)

    created = services.video_create_from_file(
        path=copy_of(clip, "numbered.mp4", tmp_path), owner=user, filename="a.mp4"
    )

    assert sorted(r.profile.slug for r in created.video.renditions.all()) == [
        "proxy-480p",
        "small",
    ]
    assert "rendition:small" in created.jobs


# Jobs, run in this process through the engine ------------------------------------------


def test_metadata_job_records_the_header_again(make_video):
    video = make_video("rotated_cw90.mp4")
    Video.objects.filter(pk=video.pk).update(width=None, rotation=None, metadata={})

    job = run_job(services.video_reprocess(video=video, jobs=["metadata"])["metadata"])

    assert job.status == "completed", job.error_message
    video.refresh_from_db()
    assert (video.width, video.height, video.rotation) == (320, 240, 90)
    assert video.display_size == (240, 320)
    assert job.result["metadata"]["rotation"] == 90


def test_thumbnail_job_stores_the_exact_frame_at_ten_percent_and_a_contact_sheet(
    make_video, settings
):
    settings.VIDEOS_CONTACT_SHEET_FRAMES = 4
    settings.VIDEOS_CONTACT_SHEET_COLUMNS = 2
    video = make_video("numbered.mp4")
    job = services.video_reprocess(video=video, jobs=["thumbnail"])["thumbnail"]

    job = run_job(job)

    assert job.status == "completed", job.error_message
    video.refresh_from_db()
    assert video.thumbnail.name == f"videos/{video.id}/thumbnail.jpg"
    assert video.thumbnail_at_s == pytest.approx(0.3)
    with default_storage.open(video.thumbnail.name) as poster:
        assert clips.jpeg_frame_number(poster.read()) == 9  # 10 % of 90 frames
    with default_storage.open(video.contact_sheet.name) as sheet:
        assert Image.open(io.BytesIO(sheet.read())).size == (640, 480)
    assert len(video.contact_sheet_times_s) == 4


def test_thumbnail_at_a_chosen_time_replaces_the_previous_one(make_video, settings):
    video = make_video("numbered.mp4")
    run_job(services.video_reprocess(video=video, jobs=["thumbnail"])["thumbnail"])

    job = run_job(
        services.video_reprocess(video=video, jobs=["thumbnail"], thumbnail_at_s=2.0)[
            "thumbnail"
        ]
    )

    video.refresh_from_db()
    assert job.result["at_s"] == pytest.approx(2.0)
    with default_storage.open(video.thumbnail.name) as poster:
        assert clips.jpeg_frame_number(poster.read()) == 60
    names = [path.name for path in media_files(settings)]
    assert names.count("thumbnail.jpg") == 1


def test_proxy_job_encodes_480p_10fps_with_audio_and_marks_the_video_ready(
    make_video, settings
):
    video = make_video("hd.mp4")
    rendition = video.renditions.get()

    job = run_job(ProcessingJob.objects.get(id=rendition.job_id))

    assert job.status == "completed", job.error_message
    rendition.refresh_from_db()
    video.refresh_from_db()
    assert rendition.status == Rendition.Status.READY
    assert rendition.method == "encode"
    assert (rendition.width, rendition.height, rendition.fps) == (854, 480, 10)
    assert rendition.progress == 100
    assert rendition.file.name == f"videos/{video.id}/renditions/proxy-480p.mp4"
    assert rendition.metadata["audio_codec"] == "aac"
    assert video.status == Video.Status.READY
    assert job.result["method"] == "encode"
    assert job.result["proxy_path"] == rendition.file.name
    assert job.result["metadata"]["height"] == 480
    assert work_files(settings) == []


def test_a_source_that_already_is_a_proxy_is_not_encoded_again(make_video):
    video = make_video("proxy_faststart.mp4")
    rendition = video.renditions.get()

    job = run_job(ProcessingJob.objects.get(id=rendition.job_id))

    rendition.refresh_from_db()
    assert job.result["method"] == "skip"
    assert "not re-encoded" in job.result["detail"]
    assert job.result["proxy_path"] == video.original.name
    assert rendition.method == "skip"
    assert rendition.file.name == ""
    assert rendition.status == Rendition.Status.READY


def test_a_proxy_with_the_index_at_the_end_is_remuxed_not_encoded(make_video):
    video = make_video("proxy_moov_at_end.mp4")

    job = run_job(ProcessingJob.objects.get(id=video.renditions.get().job_id))

    assert job.result["method"] == "copy"
    assert job.result["metadata"]["is_faststart"] is True


def test_proxy_of_a_vanished_original_fails_the_rendition_and_the_video(make_video):
    video = make_video("numbered.mp4")
    default_storage.delete(video.original.name)
    rendition = video.renditions.get()

    job = run_job(ProcessingJob.objects.get(id=rendition.job_id))

    # A missing file is an OSError (storage might come back): retried, then failed.
    assert job.status == "failed"
    rendition.refresh_from_db()
    video.refresh_from_db()
    assert rendition.status == Rendition.Status.FAILED
    assert video.status == Video.Status.FAILED
    assert "missing" in rendition.error_message


def test_proxy_of_a_damaged_original_fails_at_once_with_a_clear_error(
    make_video, truncated
):
    video = make_video("numbered.mp4")
    with default_storage.open(video.original.name, "wb") as original:
        original.write(truncated("numbered.mp4").read_bytes())

    job = run_job(ProcessingJob.objects.get(id=video.renditions.get().job_id))

    assert job.status == "failed"
    assert job.attempts == 1  # permanent: never retried
    assert "corrupt_video: The file is truncated" in job.error_message


def test_reprocess_reuses_a_job_that_is_still_queued(make_video):
    video = make_video("numbered.mp4")
    first = services.video_reprocess(video=video, jobs=["proxy", "thumbnail"])

    again = services.video_reprocess(video=video, jobs=["proxy", "thumbnail"])

    assert again["proxy"].id == first["proxy"].id
    assert again["thumbnail"].id == first["thumbnail"].id


def test_reprocess_refuses_unknown_jobs_and_times_outside_the_video(make_video):
    video = make_video("numbered.mp4")

    with pytest.raises(ValidationError, match="unknown"):
        services.video_reprocess(video=video, jobs=["transcode"])
    with pytest.raises(ValidationError, match="outside the video"):
        services.video_reprocess(video=video, jobs=["thumbnail"], thumbnail_at_s=10)


def test_cancelling_a_queued_rendition_marks_it_and_the_video(make_video):
    video = make_video("numbered.mp4")
    rendition = video.renditions.select_related("profile").get()

    services.rendition_cancel(rendition=rendition)

    rendition.refresh_from_db()
    video.refresh_from_db()
    assert rendition.status == Rendition.Status.CANCELLED
    assert video.status == Video.Status.CANCELLED
    assert ProcessingJob.objects.get(id=rendition.job_id).status == "cancelled"
    with pytest.raises(JobStateConflict):
        services.rendition_cancel(rendition=rendition)


def test_a_cancel_anywhere_marks_the_rendition_through_the_engines_hook(make_video):
    """Cancelling the job itself (tasks route, admin, a purge) reaches the rendition."""
    video = make_video("numbered.mp4")
    rendition = video.renditions.get()

    job_services.job_cancel(job_id=rendition.job_id)

    rendition.refresh_from_db()
    video.refresh_from_db()
    assert rendition.status == Rendition.Status.CANCELLED
    assert rendition.error_message == "cancelled by system"
    assert video.status == Video.Status.CANCELLED


def test_housekeeping_settles_renditions_whose_job_ended_without_telling_them(
    make_video,
):
    """A job row cancelled behind the engine's back (an old row, a manual fix)."""
    video = make_video("numbered.mp4")
    rendition = video.renditions.get()
    ProcessingJob.objects.filter(id=rendition.job_id).update(status="cancelled")

    outcome = services.videos_housekeeping()

    rendition.refresh_from_db()
    assert outcome["renditions_settled"] == 1
    assert rendition.status == Rendition.Status.CANCELLED


def test_analysis_builds_a_timeline_of_cuts_and_sampled_frames(make_video, settings):
    settings.VIDEOS_ANALYZE_EVERY_S = 1.0
    video = make_video("cuts.mp4")

    job = run_job(
        ProcessingJob.objects.get(object_id=str(video.pk), job_type="videos.analyze")
    )

    assert job.status == "completed", job.error_message
    video.refresh_from_db()
    timeline = video.timeline
    assert [round(cut["at_s"]) for cut in timeline["scene_cuts"]] == [2, 4]
    assert [frame["at_s"] for frame in timeline["frames"]] == [0, 1, 2, 3, 4, 5]
    assert {"people_count", "faces_count", "codes", "text", "labels"} <= set(
        timeline["frames"][0]
    )
    assert timeline["summary"]["frames"] == 6
    assert job.result["scene_cuts"] == 2
    assert video.analyzed_at is not None


def test_long_videos_are_sampled_further_apart(settings):
    from videos.services.analysis import analysis_interval_s

    settings.VIDEOS_ANALYZE_EVERY_S = 2.0
    settings.VIDEOS_ANALYZE_MAX_SAMPLES = 100

    assert analysis_interval_s(60) == 2.0
    assert analysis_interval_s(3600) == 36.0


def test_delete_removes_files_and_cancels_active_jobs(make_video, settings):
    video = make_video("numbered.mp4")
    run_job(services.video_reprocess(video=video, jobs=["thumbnail"])["thumbnail"])
    proxy_job_id = video.renditions.get().job_id

    deleted = services.video_delete(video=video)

    assert deleted >= 3  # original, thumbnail, contact sheet
    assert media_files(settings) == []
    assert not Video.objects.filter(pk=video.pk).exists()
    assert ProcessingJob.objects.get(id=proxy_job_id).status == "cancelled"


def test_profile_save_moves_the_default_flag(db):
    old = EncodingProfile.objects.get(is_default=True)

    new = services.profile_save(
        slug="hd", name="HD", height=720, fps=30, is_default=True
    )

    old.refresh_from_db()
    assert new.is_default is True
    assert old.is_default is False


def test_a_profile_in_use_cannot_be_deleted(make_video):
    video = make_video("numbered.mp4")
    profile = video.renditions.get().profile

    with pytest.raises(JobStateConflict, match="deactivate"):
        services.profile_delete(profile=profile)


def test_a_rerun_removes_what_a_killed_worker_left_in_scratch(make_video, settings):
    """A worker killed mid-encode leaves its partial file; the rerun starts clean."""
    from pathlib import Path

    video = make_video("numbered.mp4")
    rendition = video.renditions.get()
    scratch = Path(settings.VIDEOS_WORK_DIR) / "renditions" / str(rendition.pk)
    scratch.mkdir(parents=True)
    (scratch / ".rendition.mp4.99999999-deadbeef.part").write_bytes(b"half a proxy")

    job = run_job(ProcessingJob.objects.get(id=rendition.job_id))

    assert job.status == "completed", job.error_message
    assert work_files(settings) == []
