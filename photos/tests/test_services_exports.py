"""Exports: format, size, metadata and GPS as asked, ICC kept, the preset's settings frozen."""

import io

import numpy as np
import piexif
import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from jobs.models import ProcessingJob
from photos import services
from photos.models import Export
from photos.models import Preset
from photos.tests import images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]


@pytest.fixture
def photo(analysed):
    image = images.photograph("coffee", size=900)
    data = images.jpeg_with_exif(image, images.KNOWN_EXIF)
    # The same pixels with an ICC profile: exports must carry it.
    with_icc = Image.open(io.BytesIO(data))
    buffer = io.BytesIO()
    with_icc.save(
        buffer,
        "JPEG",
        quality=92,
        exif=with_icc.info["exif"],
        icc_profile=images.srgb_icc(),
    )
    return analysed(buffer.getvalue())


def rendered(export: Export) -> tuple[Image.Image, bytes]:
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        data = handle.read()
    return Image.open(io.BytesIO(data)), data


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG", "AVIF"])
def test_export_is_encoded_in_the_format_asked_and_fits_the_long_edge(user, photo, fmt):
    export = services.export_create(
        photo=photo, requested_by=user, format=fmt, long_edge=256, preset=None
    )

    result = services.export_render(export_id=export.pk)

    image, data = rendered(export)
    assert image.format == fmt
    assert max(image.size) == 256
    assert export.status == Export.Status.COMPLETED
    assert export.size_bytes == len(data) == result["size_bytes"]
    assert (export.width, export.height) == image.size
    assert export.icc_profile_kept is True
    assert image.info.get("icc_profile") == images.srgb_icc()


def test_metadata_is_kept_without_gps_by_default(user, photo):
    export = services.export_create(photo=photo, requested_by=user, long_edge=300)
    services.export_render(export_id=export.pk)

    image, _ = rendered(export)
    exif = piexif.load(image.info["exif"])
    assert exif["0th"][piexif.ImageIFD.Model] == b"Canon EOS R6"
    assert exif["0th"][piexif.ImageIFD.Orientation] == 1
    assert exif["GPS"] == {}


def test_gps_is_kept_only_when_asked(user, photo):
    export = services.export_create(
        photo=photo, requested_by=user, long_edge=300, strip_gps=False
    )
    services.export_render(export_id=export.pk)

    image, _ = rendered(export)
    assert piexif.load(image.info["exif"])["GPS"][piexif.GPSIFD.GPSLatitudeRef] == b"N"


def test_stripped_metadata_leaves_no_exif(user, photo):
    export = services.export_create(
        photo=photo, requested_by=user, long_edge=300, keep_metadata=False
    )
    services.export_render(export_id=export.pk)

    image, _ = rendered(export)
    assert "exif" not in image.info


def test_the_photo_s_preset_develops_the_export_and_is_frozen(user, photo, staff_user):
    bright = services.preset_create(
        created_by=user, name="Bright", adjustments={"exposure": 1.5}
    )
    plain = services.export_create(photo=photo, requested_by=user, preset=None)
    developed = services.export_create(photo=photo, requested_by=user, preset=bright)
    services.preset_update(preset=bright, updated_by=user, adjustments={"exposure": -2})

    services.export_render(export_id=plain.pk)
    services.export_render(export_id=developed.pk)

    assert developed.adjustments == {"exposure": 1.5}
    plain_image, _ = rendered(plain)
    developed_image, _ = rendered(developed)
    plain_level = np.asarray(plain_image.convert("L")).mean()
    assert np.asarray(developed_image.convert("L")).mean() > plain_level + 20


def test_without_a_preset_argument_the_photo_s_own_preset_is_used(user, photo):
    portrait = Preset.objects.get(owner=None, name="Portrait")
    services.photo_preset_choose(photo=photo, preset=portrait, submitted_by=user)

    export = services.export_create(photo=photo, requested_by=user)

    assert export.preset == portrait
    assert export.adjustments == portrait.adjustments


def test_export_is_queued_on_low_with_the_score_s_priority(user, photo):
    export = services.export_create(photo=photo, requested_by=user)

    job = ProcessingJob.objects.get(job_type="photos.export")
    assert (job.queue, job.object_id) == ("low", str(export.pk))
    assert job.priority == (9 if photo.score >= 4.5 else 5 if photo.score >= 3.5 else 1)


def test_rendering_twice_keeps_the_first_file(user, photo):
    export = services.export_create(photo=photo, requested_by=user, long_edge=200)
    services.export_render(export_id=export.pk)
    export.refresh_from_db()
    name = export.file.name

    again = services.export_render(export_id=export.pk)

    export.refresh_from_db()
    assert again["unchanged"] is True
    assert export.file.name == name


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "GIF"}, "format"),
        ({"quality_level": 0}, "quality"),
        ({"long_edge": 4}, "long_edge"),
    ],
)
def test_bad_export_options_are_refused_before_anything_is_queued(
    user, photo, options, message
):
    with pytest.raises(ValidationError, match=message):
        services.export_create(photo=photo, requested_by=user, **options)

    assert not Export.objects.exists()
    assert not ProcessingJob.objects.filter(job_type="photos.export").exists()


def test_final_failure_marks_the_export_failed(user, photo):
    export = services.export_create(photo=photo, requested_by=user)

    services.export_mark_failed(export_id=export.pk, error="boom")

    export.refresh_from_db()
    assert (export.status, export.error_message) == (Export.Status.FAILED, "boom")


def test_a_raw_photo_is_demosaiced_for_its_export(user, analysed):
    raw = analysed(images.dng_bytes(), name="IMG_1.DNG")
    export = services.export_create(photo=raw, requested_by=user, format="PNG")

    services.export_render(export_id=export.pk)

    image, _ = rendered(export)
    assert image.size == (96, 64)
