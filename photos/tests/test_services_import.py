"""Importing photos: content checks, one stored photo per owner and content, jobs on commit."""

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import ProcessingJob
from photos import services
from photos.errors import MalformedPhoto
from photos.errors import PhotoTooLarge
from photos.errors import UnsupportedPhotoFormat
from photos.models import Photo
from photos.models import PhotoSession
from photos.tests import images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]


def stored_originals() -> list[str]:
    if not default_storage.exists("photos/originals"):
        return []
    found = []
    folders = ["photos/originals"]
    while folders:
        folder = folders.pop()
        subfolders, files = default_storage.listdir(folder)
        folders += [f"{folder}/{name}" for name in subfolders]
        found += [f"{folder}/{name}" for name in files]
    return found


def test_import_stores_the_photo_with_its_header_facts(user, jpeg):
    data = jpeg(size=400)

    result = services.photo_import(owner=user, data=data, name="../dir/IMG_1.JPG")

    photo = Photo.objects.get(pk=result.photo.pk)
    assert result.created is True
    assert photo.owner == user
    assert photo.original_name == "IMG_1.JPG"
    assert photo.format == "JPEG"
    assert photo.content_type == "image/jpeg"
    assert (photo.width, photo.height) == (400, 400)
    assert photo.size_bytes == len(data)
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.status == Photo.Status.PENDING
    with photo.original.open("rb") as original:
        assert original.read() == data


def test_import_queues_exif_on_high_and_analysis_on_medium_after_commit(
    user, jpeg, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        photo = services.photo_import(owner=user, data=jpeg()).photo
        jobs = {
            job.job_type: job
            for job in ProcessingJob.objects.filter(object_id=str(photo.pk))
        }
        assert set(jobs) == {"photos.exif", "photos.analyze"}
        assert all(job.status == "queued" for job in jobs.values())
    assert len(callbacks) == 1  # both messages wait for the commit, sent together
    assert jobs["photos.exif"].queue == "high"
    assert jobs["photos.analyze"].queue == "medium"
    assert {job.priority for job in jobs.values()} == {5}  # no score yet
    assert {job.submitted_by_id for job in jobs.values()} == {user.pk}


def test_reimport_of_the_same_bytes_answers_the_stored_photo(user, jpeg):
    data = jpeg()
    first = services.photo_import(owner=user, data=data)

    again = services.photo_import(owner=user, data=data, name="copy.jpg")

    assert again.created is False
    assert again.photo.pk == first.photo.pk
    assert again.jobs == []
    assert Photo.objects.count() == 1
    assert len(stored_originals()) == 1


def test_the_same_bytes_are_a_photo_of_their_own_for_another_owner(
    user, other_user, jpeg
):
    data = jpeg()
    mine = services.photo_import(owner=user, data=data).photo

    theirs = services.photo_import(owner=other_user, data=data).photo

    assert theirs.pk != mine.pk
    assert theirs.original.name != mine.original.name


@pytest.mark.parametrize(
    ("data", "error", "status", "message"),
    [
        (b"GIF89a" + b"\x00" * 64, UnsupportedPhotoFormat, 415, "GIF"),
        (b"%PDF-1.7 not a photo", UnsupportedPhotoFormat, 415, "PDF"),
        (b"hello, world", UnsupportedPhotoFormat, 415, "unknown"),
        (b"", MalformedPhoto, 400, "empty"),
        (b"\xff\xd8\xff\xe0 broken", MalformedPhoto, 400, "not a readable JPEG"),
        (images.png_bomb(), PhotoTooLarge, 413, "pixels"),
        (images.jpeg_bomb(), PhotoTooLarge, 413, "pixels"),
        (
            images.cr3_like(),
            MalformedPhoto,
            400,
            "LibRaw cannot read this RAW file: Unsupported",
        ),
        (
            images.encode(images.photograph(size=64), "AVIF"),
            UnsupportedPhotoFormat,
            415,
            "AVIF",
        ),
    ],
    ids=[
        "gif",
        "pdf",
        "text",
        "empty",
        "broken-jpeg",
        "png-bomb",
        "jpeg-bomb",
        "raw-libraw-refuses",
        "avif",
    ],
)
def test_refused_files_leave_no_row_and_no_file(user, data, error, status, message):
    with pytest.raises(error, match=message) as refused:
        services.photo_import(owner=user, data=data)

    assert refused.value.status == status
    assert Photo.objects.count() == 0
    assert ProcessingJob.objects.count() == 0
    assert stored_originals() == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(user, jpeg, settings):
    settings.PHOTOS_MAX_UPLOAD_BYTES = 1000

    with pytest.raises(PhotoTooLarge, match="limit is 1000 bytes") as refused:
        services.photo_import(owner=user, data=jpeg())

    assert refused.value.code == "file_too_large"
    assert Photo.objects.count() == 0


def test_the_pixel_limit_comes_from_the_settings(user, jpeg, settings):
    settings.PHOTOS_MAX_PIXELS = 300 * 300

    with pytest.raises(PhotoTooLarge, match="the limit is 90000"):
        services.photo_import(owner=user, data=jpeg(size=400))


def test_heic_raw_and_rotated_photos_get_their_format_and_upright_size(user):
    heic = services.photo_import(
        owner=user, data=images.heic_bytes(images.photograph(size=200))
    ).photo
    dng = services.photo_import(owner=user, data=images.dng_bytes()).photo
    rotated = services.photo_import(
        owner=user,
        data=images.jpeg_with_exif(
            images.photograph("coffee", size=300),
            {"0th": {274: 6}},  # Orientation: rotate 90 CW
        ),
    ).photo

    assert (heic.format, heic.content_type) == ("HEIC", "image/heic")
    assert dng.format == "DNG"
    assert rotated.orientation == 6
    assert rotated.width < rotated.height  # a 300x200 landscape turned upright


def test_a_session_of_another_user_is_refused(user, other_user, jpeg):
    session = services.session_create(owner=other_user, name="theirs")

    with pytest.raises(MalformedPhoto, match="another user"):
        services.photo_import(owner=user, data=jpeg(), session=session)


def test_upload_stores_good_files_and_reports_each_bad_one_by_name(user, jpeg):
    files = [
        SimpleUploadedFile("good.jpg", jpeg()),
        SimpleUploadedFile("anim.gif", b"GIF89a" + b"\x00" * 32),
        SimpleUploadedFile("bomb.png", images.png_bomb()),
        SimpleUploadedFile("second.jpg", jpeg("coffee")),
    ]

    outcomes = services.photos_upload(owner=user, files=files, session_name="Beach")

    assert [(o.name, o.status) for o in outcomes] == [
        ("good.jpg", 201),
        ("anim.gif", 415),
        ("bomb.png", 413),
        ("second.jpg", 201),
    ]
    session = PhotoSession.objects.get(owner=user, name="Beach")
    assert session.photos.count() == 2


def test_upload_with_every_file_refused_leaves_no_new_session(user):
    files = [SimpleUploadedFile("a.gif", b"GIF89a" + b"\x00" * 32)]

    outcomes = services.photos_upload(owner=user, files=files, session_name="Empty")

    assert outcomes[0].status == 415
    assert not PhotoSession.objects.filter(name="Empty").exists()


def test_delete_removes_the_photo_and_its_files(
    user, analysed, jpeg, django_capture_on_commit_callbacks
):
    photo = analysed(jpeg())
    names = [photo.original.name, photo.thumbnail.name, photo.preview.name]
    assert all(default_storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=True):
        services.photo_delete(photo=photo)

    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not any(default_storage.exists(name) for name in names)
