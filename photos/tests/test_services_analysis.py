"""The analysis job's service: fields stored, derived files made once, follow-up jobs."""

import datetime as dt

import piexif
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from photos import services
from photos.models import Photo
from photos.models import Preset
from photos.tests import images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]

STAGES = {
    "read",
    "decode",
    "resize",
    "exif",
    "quality",
    "context",
    "phash",
    "preset",
    "thumbnail_preview",
    "store",
    "total",
}


def test_analysis_stores_exif_quality_context_and_hash(user, import_photo):
    photo = import_photo(images.jpeg_with_exif(images.photograph(size=480)))

    result = services.photo_analyze(photo_id=photo.pk)

    photo.refresh_from_db()
    assert photo.status == Photo.Status.ANALYZED
    assert photo.camera_make == "Canon"
    assert photo.camera_model == "Canon EOS R6"
    assert photo.camera == "Canon EOS R6"
    assert photo.lens == "RF85mm F2 MACRO IS STM"
    assert (photo.aperture_f, photo.shutter_s, photo.iso) == (2.8, 0.004, 400)
    assert photo.focal_length_mm == 85
    assert photo.gps_lat == pytest.approx(images.KNOWN_LAT, abs=1e-6)
    assert photo.gps_lon == pytest.approx(images.KNOWN_LON, abs=1e-6)
    assert photo.taken_at == dt.datetime(
        2024, 6, 1, 16, 30, 5, 250000, tzinfo=dt.UTC
    )  # 18:30:05.25 at +02:00, as the camera gave it
    assert photo.taken_at_source == "exif"
    assert photo.taken_at_offset_known is True
    assert 1.0 <= photo.score <= 5.0
    assert photo.quality["components"].keys() == {
        "sharpness",
        "exposure",
        "contrast",
        "noise",
    }
    assert photo.faces >= 1
    assert "portrait" in photo.context_labels
    assert photo.context_index == "\n" + "\n".join(photo.context_labels) + "\n"
    assert len(photo.phash) == 16
    assert photo.exif["Image"]["Model"] == "Canon EOS R6"
    assert result["photo_id"] == photo.pk
    assert result["score"] == photo.score
    assert set(result["stages_ms"]) == STAGES
    assert all(ms >= 0 for ms in result["stages_ms"].values())


def test_analysis_selects_the_preset_its_rules_choose(user, import_photo):
    photo = import_photo(images.encode(images.photograph(size=480)))

    result = services.photo_analyze(photo_id=photo.pk)

    photo.refresh_from_db()
    assert photo.preset.name == "Portrait"  # the seeded shared preset for faces
    assert result["preset_id"] == photo.preset_id
    assert photo.preset_chosen_by_user is False


def test_the_owner_s_own_preset_wins_a_tie_with_a_shared_one(user, import_photo):
    mine = services.preset_create(
        created_by=user,
        name="My portraits",
        adjustments={"exposure": 0.3},
        rules=[{"labels_any": ["portrait"], "weight": 10}],
    )
    photo = import_photo(images.encode(images.photograph(size=480)))

    services.photo_analyze(photo_id=photo.pk)

    photo.refresh_from_db()
    assert photo.preset == mine


def test_a_preset_chosen_by_the_user_survives_reanalysis(user, import_photo):
    photo = import_photo(images.encode(images.photograph(size=480)))
    night = Preset.objects.get(name="Night", owner=None)
    services.photo_preset_choose(photo=photo, preset=night, submitted_by=user)

    services.photo_analyze(photo_id=photo.pk)

    photo.refresh_from_db()
    assert photo.preset == night


def test_thumbnail_and_preview_are_made_once(user, import_photo):
    photo = import_photo(images.encode(images.photograph("coffee", size=1800)))

    services.photo_analyze(photo_id=photo.pk)
    photo.refresh_from_db()
    first = (photo.thumbnail.name, photo.preview.name)
    services.photo_analyze(photo_id=photo.pk)
    photo.refresh_from_db()

    assert (photo.thumbnail.name, photo.preview.name) == first
    assert first == (
        f"photos/thumbnails/{photo.pk}.jpg",
        f"photos/previews/{photo.pk}.jpg",
    )
    with photo.thumbnail.open("rb") as thumbnail:
        assert max(Image.open(thumbnail).size) == 320
    with photo.preview.open("rb") as preview:
        assert Image.open(preview).size == (1440, 960)


def test_a_time_the_user_corrected_survives_reanalysis(user, import_photo):
    photo = import_photo(images.jpeg_with_exif())
    corrected = dt.datetime(2024, 6, 2, 9, 0, tzinfo=dt.UTC)
    services.photo_update(photo=photo, taken_at=corrected)

    services.photo_analyze(photo_id=photo.pk)

    photo.refresh_from_db()
    assert (photo.taken_at, photo.taken_at_source) == (corrected, "client")


def test_camera_times_without_an_offset_take_the_configured_zone(
    user, import_photo, settings
):
    settings.PHOTOS_DEFAULT_TIMEZONE = "Europe/Paris"
    exif = {"Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:01:10 12:00:00"}}
    photo = import_photo(images.jpeg_with_exif(exif=exif))

    services.photo_analyze(photo_id=photo.pk)

    photo.refresh_from_db()
    assert photo.taken_at == dt.datetime(2024, 1, 10, 11, 0, tzinfo=dt.UTC)
    assert photo.taken_at_offset_known is False


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            images.truncated(images.encode(images.photograph(size=600)), 0.4),
            "truncated",
        ),
        (
            images.truncated(images.heic_bytes(images.photograph(size=300)), 0.5),
            "HEIF",
        ),
        (images.jpeg_with_raw_exif(images.looping_exif()), None),
        (images.jpeg_with_raw_exif(images.garbage_exif()), None),
        (images.jpeg_with_raw_exif(images.crowded_exif()), None),
    ],
    ids=["truncated", "truncated-heic", "looping-exif", "garbage-exif", "crowded-exif"],
)
def test_bad_files_fail_with_the_reason_and_hostile_exif_is_survived(
    user, import_photo, data, reason
):
    photo = import_photo(data)

    if reason is None:
        services.photo_analyze(photo_id=photo.pk)
        photo.refresh_from_db()
        assert photo.status == Photo.Status.ANALYZED
        return
    with pytest.raises(PermanentJobError, match=reason):
        services.photo_analyze(photo_id=photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PENDING
    assert not photo.thumbnail


def test_a_missing_original_fails_at_once(user, import_photo):
    photo = import_photo(images.encode(images.photograph(size=200)))
    default_storage.delete(photo.original.name)

    with pytest.raises(PermanentJobError, match="missing"):
        services.photo_analyze(photo_id=photo.pk)


def test_final_failure_marks_the_photo_failed_with_the_reason(user, import_photo):
    photo = import_photo(images.encode(images.photograph(size=200)))

    services.photo_mark_failed(photo_id=photo.pk, error="malformed_photo: truncated")

    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED
    assert photo.error_message == "malformed_photo: truncated"


def test_a_failed_reanalysis_keeps_the_earlier_results(user, analysed):
    photo = analysed(images.encode(images.photograph(size=200)))

    services.photo_mark_failed(photo_id=photo.pk, error="storage down")

    photo.refresh_from_db()
    assert photo.status == Photo.Status.ANALYZED
    assert photo.score is not None
    assert photo.error_message == "storage down"


def test_apply_preset_param_queues_the_development_on_high(user, import_photo):
    photo = import_photo(images.encode(images.photograph(size=480)))

    result = services.photo_analyze(photo_id=photo.pk, params={"apply_preset": True})

    job = ProcessingJob.objects.get(job_type="photos.apply_preset")
    assert job.task_id == result["apply_preset_task_id"]
    assert job.queue == "high"
    assert job.params == {"preset_id": result["preset_id"]}


def test_grouping_is_queued_once_the_last_photo_of_the_session_is_through(
    user, import_photo
):
    session = services.session_create(owner=user, name="Shoot")
    first = import_photo(images.encode(images.photograph(size=300)), session=session)
    second = import_photo(
        images.encode(images.photograph("coffee", size=300)), session=session
    )
    third = import_photo(
        images.encode(images.photograph("chelsea", size=300)), session=session
    )

    services.photo_analyze(photo_id=first.pk)
    assert not ProcessingJob.objects.filter(job_type="photos.group").exists()
    services.photo_mark_failed(photo_id=second.pk, error="bad")
    assert not ProcessingJob.objects.filter(job_type="photos.group").exists()
    result = services.photo_analyze(photo_id=third.pk)

    job = ProcessingJob.objects.get(job_type="photos.group")
    assert job.task_id == result["group_task_id"]
    assert (job.queue, job.object_id) == ("low", str(session.pk))
    services.photo_analyze(photo_id=third.pk)  # a grouping still waits: no second
    assert ProcessingJob.objects.filter(job_type="photos.group").count() == 1


def test_exif_job_reads_the_key_fields_without_decoding(user, import_photo):
    photo = import_photo(images.jpeg_with_exif())

    result = services.photo_exif_read(photo_id=photo.pk)

    photo.refresh_from_db()
    assert photo.camera_model == "Canon EOS R6"
    assert photo.iso == 400
    assert photo.exif_read_at is not None
    assert photo.score is None  # no analysis yet
    assert result["has_gps"] is True


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        (lambda image: image, lambda image: images.blurred(image, 4)),
        (lambda image: image, lambda image: images.exposed(image, 2.2)),
        (lambda image: image, lambda image: images.exposed(image, 0.25)),
        (lambda image: image, lambda image: images.with_noise(image, 18)),
    ],
    ids=["sharp-vs-blurred", "vs-overexposed", "vs-underexposed", "vs-noisy"],
)
def test_scores_are_ordered_as_a_photographer_expects(user, analysed, better, worse):
    scene = images.photograph("chelsea", size=640)

    good = analysed(images.encode(better(scene)), name="good.jpg")
    bad = analysed(images.encode(worse(scene)), name="bad.jpg")

    assert good.score > bad.score


def test_raw_and_heic_photos_are_analysed(user, import_photo):
    raw = import_photo(images.dng_bytes(), name="IMG_1.DNG")
    heic = import_photo(
        images.heic_bytes(images.photograph(size=400)), name="IMG_2.HEIC"
    )

    for photo in (raw, heic):
        services.photo_analyze(photo_id=photo.pk)
        photo.refresh_from_db()
        assert photo.status == Photo.Status.ANALYZED
        assert photo.thumbnail and photo.preview
    assert raw.camera_model == "Test Camera"
