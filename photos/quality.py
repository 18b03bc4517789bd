"""Quality measures, overall score, context labels and job priority of one photo.

Measures, on the photo's luma resized so its long edge is 640 px (up or
down, so every photo is judged at the same scale):

- sharpness: variance of the Laplacian.
- exposure_ev: log2(mean linear luminance / 0.18), 0 for a mid-grey average;
  highlights/shadows_clipped: share of pixels with luma >= 250 / <= 5.
- noise: Immerkaer's estimate (sigma, in 8-bit levels) over the flatter half
  of the image (lowest gradient), so edges are not counted as noise.
- contrast: RMS contrast, the standard deviation of luma.
- faces: OpenCV's frontal-face Haar cascade on a 400 px copy; faces smaller
  than 6 % of the long edge are not found.

Overall score, 1.0-5.0, from four sub-scores clamped to 0..1:

    S_sharp    = (log10(1 + sharpness) - 1.0) / 1.5
    S_exposure = (1 - max(0, |exposure_ev| - 0.5) / 2.5)
                 * (1 - (max(0, highlights - 0.01) / 0.1
                         + max(0, shadows - 0.10) / 0.4))
    S_contrast = contrast / 50
    S_noise    = 1 - (noise - 1.0) / 6.0
    score      = 1 + 4 * (0.40 S_sharp + 0.30 S_exposure
                          + 0.15 S_contrast + 0.15 S_noise)

Context labels (several may apply), in `context_labels()`:

- portrait: 1-2 faces, the largest at least 12 % of the image height.
- group: 3 or more faces.
- night: mean luma < 60 and (ISO >= 1600, shutter >= 1/15 s, or taken
  between 20:00 and 05:59); mean luma < 40 when the EXIF has none of them.
- backlit: the border (outside the middle ninth) averages >= 150 and is
  >= 45 levels brighter than the middle.
- indoor: flash fired, or ISO >= 800 with shutter >= 1/60 s and not night.
- landscape: no faces, wider than 1.3:1, not night, the top third brighter
  (by 15 levels) or bluer than the bottom third, and a focal length of at
  most 35 mm (35 mm equivalent not assumed) when the EXIF gives one.
- monochrome: mean chroma (half the max-min channel spread) under 4 levels.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import dataclass
from dataclasses import field

import cv2
import numpy as np
from PIL import Image

from photos.resample import fit

ANALYSIS_LONG_EDGE = 640
FACE_LONG_EDGE = 400
FACE_SCALE = 1.2
FACE_MIN_NEIGHBORS = 4
FACE_MIN_SIZE = (24, 24)
FACE_CASCADE = "haarcascade_frontalface_default.xml"

PRIORITY_HIGH = 9
PRIORITY_MEDIUM = 5
PRIORITY_LOW = 1

_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_LINEAR = ((np.arange(256, dtype=np.float32) / 255.0) ** 2.2).astype(np.float32)
_local = threading.local()


@dataclass(frozen=True)
class Scene:
    """Region brightness and colour used by the context rules (luma 0-255)."""

    centre: float
    border: float
    top: float
    bottom: float
    top_bluer: bool
    chroma: float


@dataclass(frozen=True)
class Quality:
    """What the measures found and the overall score; `asdict()` is JSON-safe."""

    sharpness: float
    brightness: float
    exposure_ev: float
    highlights_clipped: float
    shadows_clipped: float
    noise: float
    contrast: float
    faces: int
    face_boxes: list[list[float]] = field(default_factory=list)  # x, y, w, h in 0..1
    components: dict[str, float] = field(default_factory=dict)
    score: float = 1.0
    scene: Scene | None = None


def _cascade() -> cv2.CascadeClassifier:
    # One per thread: a classifier keeps per-call state.
    if getattr(_local, "faces", None) is None:
        _local.faces = cv2.CascadeClassifier(cv2.data.haarcascades + FACE_CASCADE)
    return _local.faces


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def measure(image: Image.Image) -> Quality:
    """Quality of an RGB image (any size; it is rescaled to 640 px first)."""
    rgb = np.asarray(fit(image, ANALYSIS_LONG_EDGE, upscale=True), dtype=np.float32)
    luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    luma8 = luma.clip(0, 255).astype(np.uint8)

    sharpness = float(cv2.Laplacian(luma, cv2.CV_32F).var())
    brightness = float(luma.mean())
    exposure_ev = math.log2(max(float(_LINEAR[luma8].mean()), 1e-6) / 0.18)
    highlights = float((luma8 >= 250).mean())
    shadows = float((luma8 <= 5).mean())
    contrast = float(luma.std())
    noise = _noise(luma)
    boxes = _faces(luma8)

    components = {
        "sharpness": _clamp((math.log10(1 + sharpness) - 1.0) / 1.5),
        "exposure": _clamp(1 - max(0.0, abs(exposure_ev) - 0.5) / 2.5)
        * _clamp(
            1 - (max(0.0, highlights - 0.01) / 0.1 + max(0.0, shadows - 0.10) / 0.4)
        ),
        "contrast": _clamp(contrast / 50),
        "noise": _clamp(1 - (noise - 1.0) / 6.0),
    }
    weighted = (
        0.40 * components["sharpness"]
        + 0.30 * components["exposure"]
        + 0.15 * components["contrast"]
        + 0.15 * components["noise"]
    )
    return Quality(
        sharpness=round(sharpness, 2),
        brightness=round(brightness, 2),
        exposure_ev=round(exposure_ev, 3),
        highlights_clipped=round(highlights, 4),
        shadows_clipped=round(shadows, 4),
        noise=round(noise, 3),
        contrast=round(contrast, 2),
        faces=len(boxes),
        face_boxes=boxes,
        components={name: round(value, 3) for name, value in components.items()},
        score=round(1 + 4 * weighted, 2),
        scene=_scene(rgb, luma),
    )


def _noise(luma: np.ndarray) -> float:
    response = np.abs(cv2.filter2D(luma, cv2.CV_32F, _NOISE_KERNEL))[1:-1, 1:-1]
    gradient = np.abs(cv2.Sobel(luma, cv2.CV_32F, 1, 0)) + np.abs(
        cv2.Sobel(luma, cv2.CV_32F, 0, 1)
    )
    gradient = gradient[1:-1, 1:-1]
    flat = gradient <= np.median(gradient)
    if not flat.any():
        return 0.0
    return float(response[flat].mean() * math.sqrt(math.pi / 2) / 6)


def _faces(luma8: np.ndarray) -> list[list[float]]:
    height, width = luma8.shape
    scale = FACE_LONG_EDGE / max(width, height)
    small = cv2.resize(
        luma8,
        (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    found = _cascade().detectMultiScale(
        small,
        scaleFactor=FACE_SCALE,
        minNeighbors=FACE_MIN_NEIGHBORS,
        minSize=FACE_MIN_SIZE,
    )
    rows, columns = small.shape
    return [
        [
            round(x / columns, 4),
            round(y / rows, 4),
            round(w / columns, 4),
            round(h / rows, 4),
        ]
        for x, y, w, h in (tuple(int(v) for v in box) for box in found)
    ]


def _scene(rgb: np.ndarray, luma: np.ndarray) -> Scene:
    height, width = luma.shape
    third, side = height // 3, width // 3
    middle = luma[third : height - third, side : width - side]
    border_sum = float(luma.sum()) - float(middle.sum())
    border_count = max(1, luma.size - middle.size)
    channels = cv2.split(rgb)
    top = [float(channel[:third].mean()) for channel in channels]
    bottom = [float(channel[height - third :].mean()) for channel in channels]
    top_blue = top[2] - top[0]
    spread = cv2.max(cv2.max(*channels[:2]), channels[2]) - cv2.min(
        cv2.min(*channels[:2]), channels[2]
    )
    return Scene(
        centre=round(float(middle.mean()), 2),
        border=round(border_sum / border_count, 2),
        top=round(float(luma[:third].mean()), 2),
        bottom=round(float(luma[height - third :].mean()), 2),
        top_bluer=bool(top_blue > 5 and top_blue > bottom[2] - bottom[0]),
        chroma=round(float(spread.mean()) / 2, 2),
    )


def context_labels(
    quality: Quality,
    *,
    width: int,
    height: int,
    iso: int | None = None,
    shutter_s: float | None = None,
    flash_fired: bool | None = None,
    focal_length_mm: float | None = None,
    taken_at: dt.datetime | None = None,
) -> list[str]:
    """Context labels by the rules in the module docstring, in a fixed order."""
    scene = quality.scene
    labels = []
    largest_face = max((box[3] for box in quality.face_boxes), default=0.0)
    if 1 <= quality.faces <= 2 and largest_face >= 0.12:
        labels.append("portrait")
    if quality.faces >= 3:
        labels.append("group")
    long_exposure = shutter_s is not None and shutter_s >= 1 / 15
    late = taken_at is not None and (taken_at.hour >= 20 or taken_at.hour < 6)
    if iso is None and shutter_s is None and taken_at is None:
        night = quality.brightness < 40
    else:
        night = quality.brightness < 60 and (
            (iso is not None and iso >= 1600) or long_exposure or late
        )
    if night:
        labels.append("night")
    if scene and scene.border >= 150 and scene.border - scene.centre >= 45:
        labels.append("backlit")
    slow = shutter_s is not None and shutter_s >= 1 / 60
    if flash_fired is True or (iso is not None and iso >= 800 and slow and not night):
        labels.append("indoor")
    wide_lens = focal_length_mm is None or focal_length_mm <= 35
    sky = scene is not None and (scene.top - scene.bottom >= 15 or scene.top_bluer)
    if quality.faces == 0 and width >= 1.3 * height and not night and sky and wide_lens:
        labels.append("landscape")
    if scene and scene.chroma < 4:
        labels.append("monochrome")
    return labels


def priority_for(score: float | None, *, user_requested: bool = False) -> int:
    """Job priority exactly as the original bridge: 9 (high), 5 (medium) or 1 (low).

    User-requested: 9. Otherwise by score: >= 4.5 -> 9, >= 3.5 -> 5, lower
    (and NaN, which compares false) -> 1; no score -> 5.
    """
    if user_requested:
        return PRIORITY_HIGH
    if score is not None:
        if score >= 4.5:
            return PRIORITY_HIGH
        if score >= 3.5:
            return PRIORITY_MEDIUM
        return PRIORITY_LOW
    return PRIORITY_MEDIUM
