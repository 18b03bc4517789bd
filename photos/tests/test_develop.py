"""Preset adjustments change pixels in the stated direction; XMP sidecars (no database)."""

import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from photos import develop
from photos.errors import InvalidSettings
from photos.presets import ADJUSTMENTS
from photos.presets import validate_adjustments
from photos.tests import images

CRS = "{http://ns.adobe.com/camera-raw-settings/1.0/}"


@pytest.fixture(scope="module")
def photo():
    return images.photograph("coffee", size=320)


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def luma(image) -> np.ndarray:
    return pixels(image) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def chroma(image) -> np.ndarray:
    values = pixels(image)
    return values.max(axis=2) - values.min(axis=2)


def test_no_adjustments_leave_pixels_unchanged(photo):
    """An empty or all-zero preset is the identity."""
    zeros = {name: 0 for name in ADJUSTMENTS}
    assert np.array_equal(pixels(develop.develop(photo, zeros)), pixels(photo))


@pytest.mark.parametrize(("ev", "brighter"), [(1.0, True), (-1.0, False)])
def test_exposure_brightens_or_darkens(photo, ev, brighter):
    """+1 EV raises mean luma, -1 EV lowers it."""
    result = float(luma(develop.develop(photo, {"exposure": ev})).mean())
    assert (result > float(luma(photo).mean())) is brighter


def test_contrast_spreads_levels_and_negative_flattens(photo):
    """Contrast +60 raises the luma spread, -60 lowers it."""
    base = luma(photo).std()
    assert luma(develop.develop(photo, {"contrast": 60})).std() > base
    assert luma(develop.develop(photo, {"contrast": -60})).std() < base


def test_highlights_minus_darkens_bright_tones_only(photo):
    """Highlights -80 darkens bright pixels and leaves dark ones almost alone."""
    before = luma(photo)
    after = luma(develop.develop(photo, {"highlights": -80}))
    bright, dark = before > 170, before < 50
    assert after[bright].mean() < before[bright].mean() - 5
    assert abs(after[dark].mean() - before[dark].mean()) < 2


def test_shadows_plus_lifts_dark_tones_only(photo):
    """Shadows +80 lifts dark pixels and leaves bright ones almost alone."""
    before = luma(photo)
    after = luma(develop.develop(photo, {"shadows": 80}))
    bright, dark = before > 200, (before > 30) & (before < 100)
    assert after[dark].mean() > before[dark].mean() + 5
    assert abs(after[bright].mean() - before[bright].mean()) < 2


def test_saturation_scales_chroma_keeping_luma(photo):
    """Saturation +50 raises chroma, -100 removes it; brightness stays."""
    more = develop.develop(photo, {"saturation": 50})
    none = develop.develop(photo, {"saturation": -100})
    assert chroma(more).mean() > chroma(photo).mean() * 1.3
    assert chroma(none).max() <= 3
    assert abs(luma(more).mean() - luma(photo).mean()) < 2


def test_vibrance_boosts_muted_colours_more_than_vivid_ones(photo):
    """Vibrance +80 raises low-chroma pixels by a larger factor than high-chroma ones."""
    before, after = chroma(photo), chroma(develop.develop(photo, {"vibrance": 80}))
    muted, vivid = (before > 10) & (before < 30), before > 80
    assert (after[muted] / before[muted]).mean() > (after[vivid] / before[vivid]).mean()


def test_temperature_warms_and_tint_goes_magenta(photo):
    """Temperature +50 raises red over blue; tint +50 lowers green."""
    warm = pixels(develop.develop(photo, {"temperature": 50}))
    base = pixels(photo)
    assert (warm[..., 0] - warm[..., 2]).mean() > (base[..., 0] - base[..., 2]).mean()
    magenta = pixels(develop.develop(photo, {"tint": 50}))
    assert magenta[..., 1].mean() < base[..., 1].mean()


def test_sharpening_raises_edge_energy(photo):
    """Sharpening 100 raises the variance of the Laplacian."""
    sharpened = develop.develop(photo, {"sharpening": 100})

    def edges(image):
        return cv2.Laplacian(luma(image), cv2.CV_32F).var()

    assert edges(sharpened) > edges(photo) * 1.2


@pytest.mark.parametrize(("amount", "darker"), [(-60, True), (60, False)])
def test_vignette_darkens_or_lightens_corners_not_centre(photo, amount, darker):
    """Negative vignette darkens the corners, positive lightens them; the centre holds."""
    before, after = luma(photo), luma(develop.develop(photo, {"vignette": amount}))
    corner = (slice(0, 20), slice(0, 20))
    centre = (slice(100, 113), slice(150, 170))
    assert (float(after[corner].mean()) < float(before[corner].mean())) is darker
    assert abs(after[centre].mean() - before[centre].mean()) < 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"exposure": 6}, "exposure: 6 is outside -5..5"),
        ({"clarity": 10}, "clarity: unknown adjustment"),
        ({"contrast": "high"}, "contrast: must be a number"),
        ({"sharpening": -1}, "sharpening: -1 is outside 0..150"),
        ({"vibrance": True}, "vibrance: must be a number"),
    ],
)
def test_adjustments_out_of_range_are_refused(values, message):
    """Ranges are data the API reuses; each violation is named."""
    with pytest.raises(InvalidSettings, match=message):
        validate_adjustments(values)


def parse_sidecar(data: bytes) -> dict:
    root = ET.fromstring(data.decode().split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    description = root.find(
        ".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"
    )
    return {key.removeprefix(CRS): value for key, value in description.attrib.items()}


def test_xmp_sidecar_carries_every_adjustment_in_crs_terms():
    """A JPEG's sidecar uses the 2012 process tags and incremental white balance."""
    values = {
        "exposure": 0.5,
        "contrast": 20,
        "highlights": -40,
        "shadows": 35,
        "saturation": -10,
        "vibrance": 15,
        "temperature": 12,
        "tint": -4,
        "sharpening": 40,
        "vignette": -25,
    }
    attributes = parse_sidecar(develop.xmp_sidecar(values, is_raw=False))
    assert attributes["Exposure2012"] == "+0.50"
    assert attributes["Contrast2012"] == "+20"
    assert attributes["Highlights2012"] == "-40"
    assert attributes["Shadows2012"] == "+35"
    assert attributes["Saturation"] == "-10"
    assert attributes["Vibrance"] == "+15"
    assert attributes["IncrementalTemperature"] == "+12"
    assert attributes["IncrementalTint"] == "-4"
    assert attributes["Sharpness"] == "40"
    assert attributes["PostCropVignetteAmount"] == "-25"
    assert attributes["ProcessVersion"] == "11.0"
    assert attributes["HasSettings"] == "True"


def test_raw_sidecar_uses_kelvin_from_the_as_shot_temperature():
    """RAW: +100 doubles the as-shot Kelvin; tint scales to the RAW range."""
    sidecar = develop.xmp_sidecar(
        {"temperature": 100, "tint": 10}, is_raw=True, as_shot_kelvin=3200
    )
    attributes = parse_sidecar(sidecar)
    assert (attributes["WhiteBalance"], attributes["Temperature"]) == ("Custom", "6400")
    assert attributes["Tint"] == "+15"
    assert "IncrementalTemperature" not in attributes


def test_neutral_white_balance_stays_as_shot_and_names_follow_lightroom():
    """No temperature or tint: As Shot. IMG_0001.CR2 -> IMG_0001.xmp."""
    attributes = parse_sidecar(develop.xmp_sidecar({"exposure": -1}, is_raw=True))
    assert attributes["WhiteBalance"] == "As Shot"
    assert develop.sidecar_name("IMG_0001.CR2") == "IMG_0001.xmp"
    assert develop.sidecar_name("noext") == "noext.xmp"
