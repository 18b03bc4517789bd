"""Offline analysis of one camera capture: plain data in, plain data out.

No Django here: the capture services call `analyze_image()` and store the
`asdict()` of its result. Detectors are created lazily, once per process
(once per thread, for the OpenCV ones, whose objects keep per-call state),
so a worker pays their load time only on its first capture.
"""

from __future__ import annotations

import functools
import io
import threading
import time
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ANALYZER_NAME = "mediaqueue-local"
ANALYZER_VERSION = "1"  # bump when results would change

DARK_BELOW = 50.0
BRIGHT_ABOVE = 200.0
BLURRY_BELOW = 100.0  # variance of the Laplacian at capture resolution
FLAT_STDDEV_BELOW = 10.0  # a featureless frame is not called blurry
MOTION_LABEL_ABOVE = 0.01

# Larger images are decoded at 1/2, 1/4 or 1/8 of their size (libjpeg scales
# while decoding), so a 40 MP capture costs the memory of a 5 MP one; boxes
# are scaled back to the original's coordinates.
ANALYSIS_MAX_PIXELS = 5_000_000
_REDUCED_READS = (
    (2, cv2.IMREAD_REDUCED_COLOR_2),
    (4, cv2.IMREAD_REDUCED_COLOR_4),
    (8, cv2.IMREAD_REDUCED_COLOR_8),
)

MOTION_SIZE = (160, 120)
MOTION_PIXEL_DELTA = 25
COLOR_SAMPLE_SIZE = (160, 120)
COLOR_LEVELS = 8  # per channel, so 512 histogram bins
COLOR_TOP = 5
COLOR_MIN_SHARE = 0.01

HOG_MAX_WIDTH = 640
HOG_SCALE = 1.1
HOG_MIN_SCORE = 0.5
NMS_IOU = 0.45
FACE_SCALE = 1.2
FACE_MIN_NEIGHBORS = 5
FACE_MIN_SIZE = (30, 30)

# Camera frames are 640x480: detect text at native size instead of the
# default upscale to 736 on the short side, which costs ~1.5x for no gain.
OCR_DET_MIN_SIDE = 480
# RapidOCR's detector runs at the frame's own size above its minimum side:
# capping the long side bounds its memory (a 2000 px frame took ~600 MB).
OCR_MAX_SIDE = 1280

ImageSource = bytes | str | Path


@dataclass
class Analysis:
    """What one capture shows; `asdict()` of it is JSON-friendly."""

    width: int
    height: int
    brightness: float
    sharpness: float
    dominant_colors: list[dict] = field(default_factory=list)
    motion: float | None = None
    people: list[dict] = field(default_factory=list)
    faces: list[dict] = field(default_factory=list)
    codes: list[dict] = field(default_factory=list)
    text: str = ""
    text_boxes: list[dict] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


def analyze_image(
    image: ImageSource,
    *,
    previous: ImageSource | None = None,
    ocr: bool = True,
) -> Analysis:
    """Analyse one capture; `previous` (the camera's prior frame) enables motion."""
    timings: dict[str, float] = {}
    started = time.perf_counter()

    with _stage(timings, "decode"):
        frame, scale, original_size = _decode_for_analysis(image)
        prior = None
        if previous is not None:
            prior, _, _ = _decode_for_analysis(previous, what="previous frame")
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    with _stage(timings, "quality"):
        brightness = float(gray.mean())
        sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
        contrast = float(gray.std())
    with _stage(timings, "colors"):
        colors = _dominant_colors(frame)
    motion = None
    if prior is not None:
        with _stage(timings, "motion"):
            motion = _motion(gray, prior)
    with _stage(timings, "people"):
        people = _people(frame)
    with _stage(timings, "faces"):
        faces = _faces(gray)
    with _stage(timings, "codes"):
        codes = _codes(frame)
    text_boxes: list[dict] = []
    if ocr:
        with _stage(timings, "ocr"):
            text_boxes = _ocr(frame)
    timings["total"] = _ms_since(started)

    width, height = original_size
    if scale > 1:
        people, faces, codes, text_boxes = (
            [_scaled(found, scale) for found in group]
            for group in (people, faces, codes, text_boxes)
        )
    analysis = Analysis(
        width=int(width),
        height=int(height),
        brightness=round(brightness, 2),
        sharpness=round(sharpness, 2),
        dominant_colors=colors,
        motion=None if motion is None else round(motion, 4),
        people=people,
        faces=faces,
        codes=codes,
        text="\n".join(box["text"] for box in text_boxes),
        text_boxes=text_boxes,
        timings_ms=timings,
    )
    analysis.labels = _labels(analysis, contrast=contrast)
    return analysis


def draw_boxes(image: bytes, analysis: dict | Analysis) -> bytes:
    """Return the capture as JPEG bytes with the analysis' boxes drawn on it."""
    if isinstance(analysis, Analysis):
        analysis = asdict(analysis)
    frame = _decode(image)
    thickness = max(2, round(max(frame.shape[:2]) / 320))
    for person in analysis.get("people") or []:
        caption = "person {:.2f}".format(person.get("score", 0.0))
        _draw(frame, _xywh(person), caption, (0, 200, 0), thickness)
    for face in analysis.get("faces") or []:
        _draw(frame, _xywh(face), "face", (255, 128, 0), thickness)
    for code in analysis.get("codes") or []:
        _draw(frame, code["box"], code.get("type", "code"), (0, 0, 255), thickness)
    for text_box in analysis.get("text_boxes") or []:
        _draw(frame, text_box["box"], "", (0, 200, 255), thickness)
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode the annotated image")
    return encoded.tobytes()


# Decoding and stages ---------------------------------------------------------


class _stage:
    """Context manager that records a stage's wall time in milliseconds."""

    def __init__(self, timings: dict[str, float], name: str):
        self.timings = timings
        self.name = name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc_info: object) -> None:
        self.timings[self.name] = _ms_since(self.started)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _header_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as header:
            return header.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _decode_for_analysis(
    source: ImageSource, *, what: str = "image"
) -> tuple[np.ndarray, int, tuple[int, int]]:
    """The frame decoded at a reduced size when large: (frame, scale, original size)."""
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source
    size = _header_size(data) if data else None
    if size is not None and size[0] * size[1] > ANALYSIS_MAX_PIXELS:
        for scale, flag in _REDUCED_READS:
            if size[0] * size[1] / scale**2 <= ANALYSIS_MAX_PIXELS or scale == 8:
                frame = _decode(data, what=what, flag=flag)
                return frame, scale, size
    frame = _decode(data, what=what)
    return frame, 1, (frame.shape[1], frame.shape[0])


def _scaled(found: dict, scale: int) -> dict:
    """A detection's box in the original image's coordinates."""
    scaled = dict(found)
    for key in ("x", "y", "w", "h"):
        if key in scaled:
            scaled[key] = int(scaled[key] * scale)
    if "box" in scaled:
        scaled["box"] = [int(value * scale) for value in scaled["box"]]
    return scaled


def _decode(
    source: ImageSource, *, what: str = "image", flag: int = cv2.IMREAD_COLOR
) -> np.ndarray:
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source
    frame = None
    if data:
        try:
            frame = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
        except cv2.error:
            frame = None
    if frame is None or frame.size == 0:
        if what == "image":
            raise ValueError("not a decodable image")
        raise ValueError(f"{what}: not a decodable image")
    return frame


def _dominant_colors(frame: np.ndarray) -> list[dict]:
    # A fixed histogram rather than k-means: deterministic, so the same
    # capture always yields the same colours, and a few times faster.
    sample = cv2.resize(frame, COLOR_SAMPLE_SIZE, interpolation=cv2.INTER_AREA)
    pixels = sample.reshape(-1, 3).astype(np.int64)
    step = 256 // COLOR_LEVELS
    bins = pixels // step
    keys = (bins[:, 0] * COLOR_LEVELS + bins[:, 1]) * COLOR_LEVELS + bins[:, 2]
    size = COLOR_LEVELS**3
    counts = np.bincount(keys, minlength=size)
    sums = np.stack(
        [np.bincount(keys, weights=pixels[:, c], minlength=size) for c in range(3)],
        axis=1,
    )
    colors = []
    for key in np.argsort(counts)[::-1][:COLOR_TOP]:
        share = counts[key] / len(pixels)
        if share < COLOR_MIN_SHARE:
            break
        blue, green, red = (int(round(v)) for v in sums[key] / counts[key])
        hex_code = f"#{red:02x}{green:02x}{blue:02x}"
        colors.append({"hex": hex_code, "share": round(float(share), 4)})
    return colors


def _motion(gray: np.ndarray, prior: np.ndarray) -> float:
    prior_gray = cv2.cvtColor(prior, cv2.COLOR_BGR2GRAY)
    current, before = (
        cv2.GaussianBlur(
            cv2.resize(img, MOTION_SIZE, interpolation=cv2.INTER_AREA), (5, 5), 0
        )
        for img in (gray, prior_gray)
    )
    delta = cv2.absdiff(current, before)
    _, changed = cv2.threshold(delta, MOTION_PIXEL_DELTA, 255, cv2.THRESH_BINARY)
    return cv2.countNonZero(changed) / changed.size


def _people(frame: np.ndarray) -> list[dict]:
    height, width = frame.shape[:2]
    ratio = min(1.0, HOG_MAX_WIDTH / width)
    small = frame
    if ratio < 1.0:
        size = (round(width * ratio), round(height * ratio))
        small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if small.shape[0] < 128 or small.shape[1] < 64:
        return []
    rects, weights = _detectors().hog.detectMultiScale(
        small, winStride=(8, 8), padding=(8, 8), scale=HOG_SCALE
    )
    if len(rects) == 0:
        return []
    boxes = [[int(v) for v in rect] for rect in rects]
    scores = [float(w) for w in np.ravel(weights)]
    kept = cv2.dnn.NMSBoxes(boxes, scores, HOG_MIN_SCORE, NMS_IOU)
    people = []
    for index in sorted(np.ravel(kept), key=lambda i: -scores[i]):
        x, y, w, h = (round(v / ratio) for v in boxes[index])
        box = _clip([x, y, w, h], width, height)
        people.append({**_box_dict(box), "score": round(scores[index], 4)})
    return people


def _faces(gray: np.ndarray) -> list[dict]:
    found = _detectors().face.detectMultiScale(
        cv2.equalizeHist(gray),
        scaleFactor=FACE_SCALE,
        minNeighbors=FACE_MIN_NEIGHBORS,
        minSize=FACE_MIN_SIZE,
    )
    return [_box_dict(rect) for rect in found]


def _codes(frame: np.ndarray) -> list[dict]:
    height, width = frame.shape[:2]
    found: dict[tuple[str, str], list[int]] = {}
    detectors = _detectors()
    ok, values, points, _ = detectors.qr.detectAndDecodeMulti(frame)
    if ok:
        for value, corners in zip(values, points, strict=False):
            if value:
                found.setdefault(("QRCODE", value), _corners_box(corners))
    # The barcode detector misses crisp synthetic bars and reads them once
    # slightly blurred; real camera frames usually decode on the first try.
    for attempt in (frame, cv2.GaussianBlur(frame, (3, 3), 0)):
        ok, values, types, points = detectors.barcode.detectAndDecodeWithType(attempt)
        if ok and any(values):
            for value, kind, corners in zip(values, types, points, strict=False):
                if value:
                    found.setdefault((kind, value), _corners_box(corners))
            break
    return [
        {"type": kind, "value": value, "box": _clip(box, width, height)}
        for (kind, value), box in found.items()
    ]


def _ocr(frame: np.ndarray) -> list[dict]:
    # No text-angle classifier: a mounted camera sees its text upright, and
    # the classifier costs about a third of the OCR time.
    height, width = frame.shape[:2]
    shrink = min(1.0, OCR_MAX_SIDE / max(height, width))
    if shrink < 1.0:
        size = (round(width * shrink), round(height * shrink))
        result = _ocr_engine()(
            cv2.resize(frame, size, interpolation=cv2.INTER_AREA), use_cls=False
        )
    else:
        result = _ocr_engine()(frame, use_cls=False)
    if result.boxes is None or result.txts is None:
        return []
    text_boxes = []
    for polygon, text, score in zip(
        result.boxes, result.txts, result.scores, strict=False
    ):
        text = text.strip()
        if text:
            text_boxes.append(
                {
                    "text": text,
                    "score": round(float(score), 4),
                    "box": _clip(
                        [round(v / shrink) for v in _corners_box(polygon)],
                        width,
                        height,
                    ),
                }
            )
    return text_boxes


def _labels(analysis: Analysis, *, contrast: float) -> list[str]:
    codes = {code["type"] for code in analysis.codes}
    checks = [
        ("dark", analysis.brightness < DARK_BELOW),
        ("bright", analysis.brightness > BRIGHT_ABOVE),
        (
            "blurry",
            analysis.sharpness < BLURRY_BELOW and contrast >= FLAT_STDDEV_BELOW,
        ),
        ("person", bool(analysis.people)),
        ("face", bool(analysis.faces)),
        ("qr", "QRCODE" in codes),
        ("barcode", bool(codes - {"QRCODE"})),
        ("text", bool(analysis.text)),
        ("motion", (analysis.motion or 0.0) > MOTION_LABEL_ABOVE),
    ]
    return [label for label, applies in checks if applies]


# Boxes -----------------------------------------------------------------------


def _corners_box(corners: Any) -> list[int]:
    x, y, w, h = cv2.boundingRect(np.asarray(corners, dtype=np.float32).reshape(-1, 2))
    return [int(x), int(y), int(w), int(h)]


def _clip(box: list[int], width: int, height: int) -> list[int]:
    x, y, w, h = box
    left, top = max(0, x), max(0, y)
    right, bottom = min(width, x + w), min(height, y + h)
    return [left, top, max(0, right - left), max(0, bottom - top)]


def _box_dict(box: Any) -> dict[str, int]:
    x, y, w, h = (int(v) for v in box)
    return {"x": x, "y": y, "w": w, "h": h}


def _xywh(item: dict) -> list[int]:
    return [item["x"], item["y"], item["w"], item["h"]]


def _draw(frame, box, caption: str, color, thickness: int) -> None:
    x, y, w, h = (int(v) for v in box)
    cv2.rectangle(frame, (x, y), (x + w, y + h), color, thickness)
    if caption:
        cv2.putText(
            frame,
            caption,
            (x, max(12, y - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            color,
            max(1, thickness // 2),
            cv2.LINE_AA,
        )


# Lazily created detectors ----------------------------------------------------


class _OpenCVDetectors:
    def __init__(self) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        cascade = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self.face = cv2.CascadeClassifier(str(cascade))
        if self.face.empty():
            raise RuntimeError(f"could not load the face cascade {cascade}")
        self.qr = cv2.QRCodeDetector()
        self.barcode = cv2.barcode.BarcodeDetector()


_thread_local = threading.local()


def _detectors() -> _OpenCVDetectors:
    # OpenCV detector objects keep state between calls, so threads get their
    # own; a prefork worker process has one thread and so one set.
    detectors = getattr(_thread_local, "detectors", None)
    if detectors is None:
        detectors = _thread_local.detectors = _OpenCVDetectors()
    return detectors


@functools.cache
def _ocr_engine():
    # Imported here so that workers that never OCR don't load onnxruntime.
    import rapidocr
    from rapidocr import RapidOCR

    # Explicit model paths skip rapidocr's download step, which would reach
    # for the network if a bundled file were missing or changed.
    models = Path(rapidocr.__file__).parent / "models"
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Det.limit_side_len": OCR_DET_MIN_SIDE,
            "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        }
    )


def warm_up(*, ocr: bool = True) -> None:
    """Load the detectors (and the OCR models) now, e.g. when a worker starts."""
    _detectors()
    if ocr:
        # The ONNX sessions are created on first use, not by the constructor.
        _ocr_engine()(np.full((64, 256, 3), 255, np.uint8))
