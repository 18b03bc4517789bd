"""Presets: validated, owned or shared, applied as a developed preview and an XMP sidecar."""

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from photos import presets as preset_rules
from photos import services
from photos.models import Preset
from photos.tests import images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]

DEFAULT_NAMES = {
    "Standard",
    "Portrait",
    "Group",
    "Landscape",
    "Backlit",
    "Indoor",
    "Night",
    "Monochrome",
}


def mean_level(field_file) -> float:
    with field_file.open("rb") as handle:
        return float(np.asarray(Image.open(handle).convert("L")).mean())


def test_default_shared_presets_are_seeded_and_valid():
    shared = Preset.objects.filter(owner=None)

    assert set(shared.values_list("name", flat=True)) == DEFAULT_NAMES
    for preset in shared:
        preset_rules.validate_adjustments(preset.adjustments)
        preset_rules.validate_rules(preset.rules)


def test_preset_out_of_range_or_with_unknown_labels_is_refused(user):
    with pytest.raises(ValidationError) as refused:
        services.preset_create(
            created_by=user,
            name="Bad",
            adjustments={"exposure": 9, "glow": 1},
            rules=[{"labels_any": ["sunset"]}],
        )

    problems = refused.value.message_dict
    assert any("exposure: 9" in problem for problem in problems["adjustments"])
    assert any("glow: unknown" in problem for problem in problems["adjustments"])
    assert any("sunset" in problem for problem in problems["rules"])


def test_users_make_their_own_presets_and_only_staff_shared_ones(user, staff_user):
    mine = services.preset_create(created_by=user, name="Mine", adjustments={})

    assert mine.owner == user
    with pytest.raises(PermissionDenied):
        services.preset_create(created_by=user, name="For all", shared=True)
    shared = services.preset_create(created_by=staff_user, name="For all", shared=True)
    assert shared.owner is None


def test_shared_presets_are_changed_only_by_staff(user, staff_user):
    shared = Preset.objects.get(owner=None, name="Night")

    with pytest.raises(PermissionDenied):
        services.preset_update(preset=shared, updated_by=user, name="Mine now")
    with pytest.raises(PermissionDenied):
        services.preset_delete(preset=shared, deleted_by=user)
    services.preset_update(preset=shared, updated_by=staff_user, is_active=False)
    shared.refresh_from_db()
    assert shared.is_active is False


def test_apply_renders_a_developed_preview_in_the_stated_direction(user, analysed):
    photo = analysed(images.encode(images.photograph("coffee", size=800)))
    brighter = services.preset_create(
        created_by=user, name="Brighter", adjustments={"exposure": 1.0}
    )

    result = services.photo_preset_apply(photo_id=photo.pk, preset_id=brighter.pk)

    photo.refresh_from_db()
    assert result["unchanged"] is False
    assert photo.developed_preset == brighter
    assert mean_level(photo.developed) > mean_level(photo.preview) + 15
    assert photo.sidecar.name.endswith("/IMG_0001.xmp")
    with photo.sidecar.open("rb") as sidecar:
        xmp = sidecar.read().decode()
    assert 'crs:Exposure2012="+1.00"' in xmp


def test_apply_twice_with_the_same_settings_changes_nothing(user, analysed):
    photo = analysed(images.encode(images.photograph(size=300)))
    preset = Preset.objects.get(owner=None, name="Portrait")
    services.photo_preset_apply(photo_id=photo.pk, preset_id=preset.pk)
    photo.refresh_from_db()
    developed = photo.developed.name

    again = services.photo_preset_apply(photo_id=photo.pk, preset_id=preset.pk)

    photo.refresh_from_db()
    assert again["unchanged"] is True
    assert photo.developed.name == developed


def test_a_changed_preset_is_rendered_again_and_the_old_files_go(
    user, analysed, staff_user
):
    photo = analysed(images.encode(images.photograph(size=300)))
    preset = services.preset_create(
        created_by=user, name="Warm", adjustments={"temperature": 30}
    )
    services.photo_preset_apply(photo_id=photo.pk, preset_id=preset.pk)
    photo.refresh_from_db()
    old = [photo.developed.name, photo.sidecar.name]

    services.preset_update(
        preset=preset, updated_by=user, adjustments={"temperature": -30}
    )
    services.photo_preset_apply(photo_id=photo.pk, preset_id=preset.pk)

    photo.refresh_from_db()
    assert photo.developed.name not in old
    assert not any(default_storage.exists(name) for name in old)
    with photo.developed.open("rb") as handle:
        red, _, blue = np.asarray(Image.open(handle).convert("RGB")).mean(axis=(0, 1))
    assert blue > red - 40  # cooler than the warm rendering


def test_another_user_s_preset_cannot_develop_a_photo(user, other_user, analysed):
    photo = analysed(images.encode(images.photograph(size=200)))
    theirs = services.preset_create(created_by=other_user, name="Theirs")

    with pytest.raises(PermanentJobError, match="another user"):
        services.photo_preset_apply(photo_id=photo.pk, preset_id=theirs.pk)
    with pytest.raises(PermissionDenied):
        services.photo_preset_choose(photo=photo, preset=theirs, submitted_by=user)


def test_choosing_a_preset_queues_the_development_on_high_by_score(user, analysed):
    photo = analysed(images.encode(images.photograph(size=300)))
    night = Preset.objects.get(owner=None, name="Night")

    job = services.photo_preset_choose(photo=photo, preset=night, submitted_by=user)

    photo.refresh_from_db()
    assert (photo.preset, photo.preset_chosen_by_user) == (night, True)
    assert job.job_type == "photos.apply_preset"
    assert job.queue == "high"
    assert job.params == {"preset_id": night.pk}
    expected = 9 if photo.score >= 4.5 else 5 if photo.score >= 3.5 else 1
    assert job.priority == expected
    assert (
        services.photo_preset_choose(photo=photo, preset=None, submitted_by=user)
        is None
    )
    photo.refresh_from_db()
    assert (photo.preset, photo.preset_chosen_by_user) == (None, False)
    assert ProcessingJob.objects.filter(job_type="photos.apply_preset").count() == 1
