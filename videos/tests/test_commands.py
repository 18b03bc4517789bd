"""The videos management commands."""

from io import StringIO

import pytest
from django.core.management import CommandError
from django.core.management import call_command

from jobs.models import ProcessingJob
from videos.models import Video

pytestmark = pytest.mark.django_db


def test_import_copies_a_local_file_into_a_video_and_queues_its_jobs(clip, user):
    out = StringIO()

    call_command(
        "videos_import", str(clip("numbered.mp4")), owner=user.username, stdout=out
    )

    video = Video.objects.get()
    assert video.upload_method == "import"
    assert clip("numbered.mp4").exists()  # the operator's file stays
    assert f"video {video.id}" in out.getvalue()


def test_import_reports_files_that_are_not_videos(tmp_path, user):
    text = tmp_path / "notes.mp4"
    text.write_text("hello")

    with pytest.raises(CommandError, match="1 file"):
        call_command("videos_import", str(text), owner=user.username, stderr=StringIO())


def test_reprocess_by_status_queues_the_named_jobs(make_video):
    video = make_video("numbered.mp4")
    Video.objects.filter(pk=video.pk).update(status="failed")
    ProcessingJob.objects.update(status="completed")

    call_command(
        "videos_reprocess", status="failed", jobs="metadata,proxy", stdout=StringIO()
    )

    assert set(
        ProcessingJob.objects.filter(status="queued").values_list("job_type", flat=True)
    ) == {"videos.metadata", "videos.proxy"}


def test_reprocess_needs_a_selection_and_known_jobs():
    with pytest.raises(CommandError, match="name video ids"):
        call_command("videos_reprocess")
    with pytest.raises(CommandError, match="--jobs"):
        call_command("videos_reprocess", all=True, jobs="encode")


def test_housekeeping_prints_what_it_did():
    out = StringIO()

    call_command("videos_housekeeping", stdout=out)

    assert "uploads_expired: 0" in out.getvalue()
