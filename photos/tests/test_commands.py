"""manage.py photos_import: a folder into a session, each file's outcome, the exit code."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jobs.models import ProcessingJob
from photos.models import Photo
from photos.models import PhotoSession
from photos.tests import images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a.jpg").write_bytes(images.encode(images.photograph(size=200)))
    (tmp_path / "b.heic").write_bytes(
        images.heic_bytes(images.photograph("coffee", size=200))
    )
    (tmp_path / "a.xmp").write_text("<x:xmpmeta/>")  # a sidecar: skipped, not refused
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00")
    return tmp_path


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("photos_import", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_a_folder_into_a_new_session(folder, user):
    out, _ = run(str(folder), "--session", "Holiday", "--owner", user.username)

    session = PhotoSession.objects.get(owner=user, name="Holiday")
    assert set(session.photos.values_list("original_name", flat=True)) == {
        "a.jpg",
        "b.heic",
    }
    assert "a.jpg: stored as photo" in out
    assert "session 'Holiday': 2 stored, 0 already stored, 0 refused" in out
    assert ProcessingJob.objects.filter(job_type="photos.analyze").count() == 2


def test_a_second_run_reports_the_photos_already_stored(folder, user):
    run(str(folder), "--session", "Holiday", "--owner", user.username)

    out, _ = run(str(folder), "--session", "Holiday", "--owner", user.username)

    assert "0 stored, 2 already stored" in out
    assert Photo.objects.count() == 2


def test_refused_files_are_listed_and_the_exit_code_is_one(folder, user):
    (folder / "notes.gif").write_bytes(b"GIF89a" + b"\x00" * 40)
    (folder / "cut.png").write_bytes(images.png_bomb())

    with pytest.raises(CommandError, match="2 file\\(s\\) refused") as failed:
        run(str(folder), "--session", "Holiday", "--owner", user.username)

    assert failed.value.returncode == 1
    assert Photo.objects.count() == 2  # the good ones are stored all the same


def test_outcomes_are_printed_per_file(folder, user):
    (folder / "notes.gif").write_bytes(b"GIF89a" + b"\x00" * 40)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "photos_import",
            str(folder),
            "--session",
            "S",
            "--owner",
            user.username,
            "--no-progress",
            stdout=out,
        )

    assert "notes.gif: refused (415 unsupported_media_type)" in out.getvalue()


def test_unknown_owner_or_folder_is_an_error(folder, user, tmp_path):
    with pytest.raises(CommandError, match="no user"):
        run(str(folder), "--session", "S", "--owner", "nobody")
    with pytest.raises(CommandError, match="not a folder"):
        run(str(tmp_path / "missing"), "--session", "S", "--owner", user.username)
