"""Quality scores, context labels, priority and preset selection (no database)."""

import datetime as dt
import json
import math

import pytest
from PIL import Image

from photos import analysis
from photos import presets
from photos import quality
from photos.errors import InvalidSettings
from photos.tests import images


@pytest.fixture(scope="module")
def astronaut():
    return images.photograph("astronaut", size=480)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_sharp_photo_scores_higher_than_its_blurred_copy(name):
    """Blur lowers sharpness and the overall score."""
    photo = images.photograph(name, size=480)
    sharp, soft = quality.measure(photo), quality.measure(images.blurred(photo))
    assert sharp.sharpness > 10 * soft.sharpness
    assert sharp.score > soft.score


@pytest.mark.parametrize("factor", [3.0, 0.25])
@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_well_exposed_photo_scores_higher_than_over_or_under_exposed(name, factor):
    """Two stops too bright or too dark costs exposure and score."""
    photo = images.photograph(name, size=480)
    good, bad = quality.measure(photo), quality.measure(images.exposed(photo, factor))
    assert good.components["exposure"] > bad.components["exposure"]
    assert good.score > bad.score


def test_exposure_ev_sign_follows_the_error(astronaut):
    """Over-exposure reads positive EV and clips highlights; under-exposure negative."""
    over = quality.measure(images.exposed(astronaut, 3.0))
    under = quality.measure(images.exposed(astronaut, 0.25))
    assert over.exposure_ev > 1 > -2 > under.exposure_ev
    assert over.highlights_clipped > 0.2


def test_noise_estimate_rises_with_added_noise(astronaut):
    """Sensor-like noise raises the estimate and lowers the noise sub-score."""
    clean = quality.measure(astronaut)
    noisy = quality.measure(images.with_noise(astronaut, 12))
    assert noisy.noise > 3 * clean.noise
    assert noisy.components["noise"] < clean.components["noise"]


def test_contrast_is_lower_for_a_flat_copy(astronaut):
    """Squeezing levels towards grey lowers RMS contrast."""
    flat = Image.blend(astronaut, Image.new("RGB", astronaut.size, "grey"), 0.7)
    assert quality.measure(flat).contrast < quality.measure(astronaut).contrast / 2


def test_score_stays_within_one_to_five():
    """Even a black frame and a white frame score inside 1.0-5.0."""
    for colour in ("black", "white"):
        score = quality.measure(Image.new("RGB", (200, 100), colour)).score
        assert 1.0 <= score <= 5.0


def test_face_makes_a_portrait_and_three_make_a_group(astronaut):
    """One large face: portrait. Three side by side: group."""
    single = quality.measure(astronaut)
    assert single.faces == 1
    assert "portrait" in quality.context_labels(single, width=480, height=480)
    row = Image.new("RGB", (1440, 480))
    for index in range(3):
        row.paste(astronaut, (index * 480, 0))
    crowd = quality.measure(row)
    assert crowd.faces == 3
    assert "group" in quality.context_labels(crowd, width=1440, height=480)


def test_dark_high_iso_photo_is_night_and_not_indoor():
    """Dark with ISO 3200: night (and therefore not indoor)."""
    dark = quality.measure(images.exposed(images.photograph("coffee", size=320), 0.2))
    labels = quality.context_labels(
        dark, width=320, height=213, iso=3200, shutter_s=1 / 30
    )
    assert "night" in labels
    assert "indoor" not in labels


def test_bright_border_around_a_dark_centre_is_backlit():
    """A subject darker than a bright surround is labelled backlit."""
    frame = Image.new("RGB", (300, 300), (235, 235, 235))
    frame.paste((60, 50, 40), (100, 100, 200, 200))
    labels = quality.context_labels(quality.measure(frame), width=300, height=300)
    assert "backlit" in labels


def test_wide_frame_with_sky_and_no_faces_is_landscape():
    """Blue sky above darker ground, wide frame, wide lens: landscape."""
    frame = Image.new("RGB", (480, 240), (70, 90, 50))
    frame.paste((120, 170, 235), (0, 0, 480, 100))
    measured = quality.measure(frame)
    assert "landscape" in quality.context_labels(
        measured, width=480, height=240, focal_length_mm=24
    )
    assert "landscape" not in quality.context_labels(
        measured, width=480, height=240, focal_length_mm=200
    )


def test_flash_means_indoor_and_greys_mean_monochrome(astronaut):
    """Flash fired: indoor. No chroma: monochrome."""
    grey = astronaut.convert("L").convert("RGB")
    labels = quality.context_labels(
        quality.measure(grey), width=480, height=480, flash_fired=True
    )
    assert {"indoor", "monochrome"} <= set(labels)
    assert set(labels) <= set(presets.CONTEXT_LABELS)


@pytest.mark.parametrize(
    ("score", "user_requested", "priority"),
    [
        (None, True, 9),
        (1.0, True, 9),
        (5.0, False, 9),
        (4.5, False, 9),
        (4.4999, False, 5),
        (3.5, False, 5),
        (3.4999, False, 1),
        (1.0, False, 1),
        (None, False, 5),
        (math.nan, False, 1),
    ],
)
def test_priority_mapping_is_exactly_the_originals(score, user_requested, priority):
    """User-requested 9; >= 4.5 9; 3.5 up to 4.5 5; below 3.5 1; no score 5."""
    assert quality.priority_for(score, user_requested=user_requested) == priority


def test_analysis_runs_every_stage_and_is_json_safe():
    """One call: size, EXIF, score, labels, hash, preset, priority and timings."""
    choices = [presets.PresetChoice("portrait-soft", [{"labels_any": ["portrait"]}])]
    data = images.jpeg_with_exif(images.photograph("astronaut", size=480))
    result = analysis.analyze_photo(data, preset_choices=choices)
    assert (result.format, result.width, result.height) == ("JPEG", 480, 480)
    assert result.exif.camera_model == "Canon EOS R6"
    assert result.preset == "portrait-soft"
    assert result.priority == quality.priority_for(result.quality.score)
    assert len(result.phash) == 16
    assert {"decode", "exif", "quality", "context", "preset", "total"} <= set(
        result.timings_ms
    )
    encoded = json.loads(json.dumps(result.as_json()))
    assert (
        dt.datetime.fromisoformat(encoded["exif"]["taken_at"]).utcoffset() is not None
    )


# PRESET SELECTION -----------------------------------------------------------

CHOICES = [
    presets.PresetChoice("default", [{}]),
    presets.PresetChoice("portrait", [{"labels_any": ["portrait", "group"]}]),
    presets.PresetChoice("night-portrait", [{"labels_all": ["portrait", "night"]}]),
    presets.PresetChoice("rescue", [{"max_score": 2.5, "weight": 10}]),
    presets.PresetChoice(
        "landscape", [{"labels_all": ["landscape"], "labels_none": ["night"]}]
    ),
]


@pytest.mark.parametrize(
    ("labels", "score", "expected"),
    [
        ([], 4.0, "default"),
        (["portrait"], 4.0, "portrait"),
        (["portrait", "night"], 4.0, "night-portrait"),
        (["portrait", "night"], 2.0, "rescue"),
        (["landscape"], 4.0, "landscape"),
        (["landscape", "night"], 4.0, "default"),
        (["group"], None, "portrait"),
    ],
)
def test_preset_selection_picks_the_most_specific_highest_weight_rule(
    labels, score, expected
):
    """Weight first, then more conditions, then list order; a rule of {} is the fallback."""
    assert presets.select_preset(CHOICES, labels=labels, score=score) == expected


def test_no_matching_preset_selects_none():
    """Without a fallback rule, a photo that matches nothing gets no preset."""
    assert presets.select_preset(CHOICES[1:3], labels=["indoor"], score=4.0) is None


def test_invalid_rules_are_refused_with_every_problem():
    """Unknown keys, unknown labels and out-of-range scores are all reported."""
    rules = [{"labels_any": ["sunset"], "min_score": 9, "colour": "red"}]
    with pytest.raises(InvalidSettings, match="unknown labels") as caught:
        presets.validate_rules(rules)
    assert len(caught.value.extra["problems"]) == 3
