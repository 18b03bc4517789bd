"""Text from images with RapidOCR, loaded once per process, plus reading-order helpers."""

import functools
import io
import math
import statistics
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PIL import ImageOps

from documents.extraction.errors import CorruptDocument
from documents.extraction.errors import TooLarge
from documents.extraction.errors import UnsupportedType

# The detector sees images shrunk to this longer side (recognition still
# reads the full-size crops). Rendered 150 dpi pages have text of a known
# size, and 960 finds the same lines as full size at a quarter of the
# detector's time; photos vary more and keep more detail.
PAGE_DET_MAX_SIDE = 960
PHOTO_DET_MAX_SIDE = 1760
MIN_SCORE = 0.5


@dataclass(frozen=True)
class OcrLine:
    """One detected text box: its text, recognition score and corner points."""

    text: str
    score: float
    box: tuple[tuple[float, float], ...]

    @property
    def left(self) -> float:
        return min(x for x, _ in self.box)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.box)

    @property
    def top(self) -> float:
        return min(y for _, y in self.box)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.box)

    @property
    def height(self) -> float:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.box[:4]
        return (math.hypot(x3 - x0, y3 - y0) + math.hypot(x2 - x1, y2 - y1)) / 2

    @property
    def angle(self) -> float:
        """Slope of the box's top edge in degrees (positive: clockwise)."""
        (x0, y0), (x1, y1) = self.box[:2]
        return math.degrees(math.atan2(y1 - y0, x1 - x0))


@functools.cache
def _engine(threads: int):
    # Imported here so that processes that never OCR don't load onnxruntime.
    import rapidocr
    from rapidocr import RapidOCR

    # Explicit model paths skip rapidocr's download step, which would reach
    # for the network if a bundled file were missing or changed.
    models = Path(rapidocr.__file__).parent / "models"
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Det.limit_type": "max",
            "Det.limit_side_len": PAGE_DET_MAX_SIDE,
            "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
            # Each batch is padded to at least this width; at the default
            # 320 a "1.29" costs as much as a sentence. Short boxes are most
            # of a receipt, which then reads a fifth faster, same text.
            "Rec.rec_img_shape": [3, 48, 96],
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
        }
    )


_threads = -1


def set_threads(threads: int) -> None:
    """onnxruntime threads per process for the engines made from now on (0: one per core)."""
    global _threads
    _threads = threads if threads > 0 else -1


def warm_up(*, threads: int | None = None) -> None:
    """Load the OCR models now (seconds), e.g. when a worker process starts.

    `threads` caps onnxruntime's threads per process (default: all cores);
    a prefork worker with one process per core runs best with 1.
    """
    global _threads
    if threads is not None:
        _threads = threads
    # The ONNX sessions are created on first use, not by the constructor.
    blank = np.full((64, 256, 3), 255, np.uint8)
    _engine(_threads)(blank, use_cls=False)


def recognize(
    image: np.ndarray, *, use_cls: bool = False, det_max_side: int = PHOTO_DET_MAX_SIDE
) -> list[OcrLine]:
    """Text boxes found in an RGB or grayscale image, in the detector's order.

    The text-angle classifier is off by default: upright pages don't need
    it and it costs about a third of the time; receipts turn it on when a
    first pass reads poorly.
    """
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    engine = _engine(_threads)
    # One engine (one copy of the models) per process: its detector reads
    # the size limit on every call, so each call sets its own.
    engine._load_det_model().limit_side_len = det_max_side
    result = engine(image, use_cls=use_cls)
    if result.boxes is None or result.txts is None:
        return []
    lines = []
    for polygon, text, score in zip(
        result.boxes, result.txts, result.scores, strict=False
    ):
        text = text.strip()
        if text and score >= MIN_SCORE:
            box = tuple((float(x), float(y)) for x, y in polygon)
            lines.append(OcrLine(text=text, score=float(score), box=box))
    return lines


# A rendered page is white paper: rows darker than this somewhere hold ink.
_INK_BELOW = 160
# Blank runs shorter than this stay inside a band (line spacing); longer
# ones are cut out before detection.
_BAND_GAP_PX = 48
_BAND_PAD_PX = 12
_BAND_SEPARATOR_PX = 24


def ink_bands(gray: np.ndarray) -> list[tuple[int, int]]:
    """(top, bottom) row ranges of a page that hold ink, blank stretches left out."""
    ink = gray < _INK_BELOW
    # A few dark pixels in a row are specks, not text.
    rows = np.flatnonzero(ink.sum(axis=1) > max(2, gray.shape[1] // 500))
    if rows.size == 0:
        return []
    bands = []
    top = previous = int(rows[0])
    for row in rows[1:]:
        row = int(row)
        if row - previous > _BAND_GAP_PX:
            bands.append((top, previous + 1))
            top = row
        previous = row
    bands.append((top, previous + 1))
    height = gray.shape[0]
    return [
        (max(0, top - _BAND_PAD_PX), min(height, bottom + _BAND_PAD_PX))
        for top, bottom in bands
    ]


def recognize_page(
    gray: np.ndarray, *, det_max_side: int = PAGE_DET_MAX_SIDE
) -> list[OcrLine]:
    """Text boxes of a rendered page (grayscale), read from its inked parts only.

    Blank margins and blank stretches between blocks are cut out and the
    inked bands stacked before detection: fewer pixels to detect, and the
    detector finds the lone line of a sparse page, which it misses when
    that line sits in a mostly white full page. Boxes come back in the
    page's own coordinates.
    """
    bands = ink_bands(gray)
    if not bands:
        return []
    columns = np.flatnonzero(
        (gray[bands[0][0] : bands[-1][1]] < _INK_BELOW).any(axis=0)
    )
    left = max(0, int(columns[0]) - _BAND_PAD_PX)
    right = min(gray.shape[1], int(columns[-1]) + 1 + _BAND_PAD_PX)
    pieces, placements, y = [], [], 0
    for top, bottom in bands:
        if pieces:
            pieces.append(np.full((_BAND_SEPARATOR_PX, right - left), 255, np.uint8))
            y += _BAND_SEPARATOR_PX
        pieces.append(gray[top:bottom, left:right])
        placements.append((y, y + bottom - top, top - y))
        y += bottom - top
    stacked = np.vstack(pieces)
    # Detect at the scale the whole page would get, not finer.
    scale = min(1.0, det_max_side / max(gray.shape))
    lines = recognize(stacked, det_max_side=max(32, round(max(stacked.shape) * scale)))
    placed = []
    for line in lines:
        middle = (line.top + line.bottom) / 2
        shift = next(
            (dy for start, end, dy in placements if start <= middle < end),
            placements[-1][2],
        )
        box = tuple((x + left, y + shift) for x, y in line.box)
        placed.append(OcrLine(text=line.text, score=line.score, box=box))
    return placed


def group_rows(
    lines: list[OcrLine], *, skew_degrees: float = 0.0
) -> list[list[OcrLine]]:
    """Boxes grouped into visual rows, top to bottom, each row left to right.

    `skew_degrees` undoes a slanted photo: positions are rotated back
    before rows are formed, so the name and price of a slanted receipt
    line still share a row.
    """
    if not lines:
        return []
    sin = math.sin(math.radians(-skew_degrees))
    cos = math.cos(math.radians(-skew_degrees))

    def upright(line: OcrLine) -> tuple[float, float]:
        x = sum(px for px, _ in line.box) / len(line.box)
        y = sum(py for _, py in line.box) / len(line.box)
        return x * cos - y * sin, x * sin + y * cos

    placed = sorted(
        ((upright(line), line) for line in lines), key=lambda item: item[0][1]
    )
    rows: list[list[tuple[tuple[float, float], OcrLine]]] = []
    for item in placed:
        (_, y), line = item
        if rows:
            row_y = statistics.fmean(member[0][1] for member in rows[-1])
            row_height = statistics.fmean(member[1].height for member in rows[-1])
            if abs(y - row_y) < 0.5 * max(row_height, line.height):
                rows[-1].append(item)
                continue
        rows.append([item])
    return [
        [line for _, line in sorted(row, key=lambda item: item[0][0])] for row in rows
    ]


def rows_text(rows: list[list[OcrLine]]) -> str:
    """Rows as lines of text, boxes in a row separated by a space."""
    return "\n".join(" ".join(line.text for line in row) for row in rows)


def skew_of(lines: list[OcrLine]) -> float:
    """The median slant of wide text boxes in degrees, 0 when there are none."""
    angles = [line.angle for line in lines if line.right - line.left > 2 * line.height]
    return statistics.median(angles) if angles else 0.0


def load_image(data: bytes, *, max_pixels: int) -> np.ndarray:
    """A JPEG or PNG as an upright RGB array, refusing decompression bombs before decoding."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; ours is checked here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["JPEG", "PNG"])
            width, height = image.size
            if width * height > max_pixels:
                raise TooLarge(
                    f"the image is {width}x{height} pixels; "
                    f"at most {max_pixels} pixels are accepted"
                )
            image = ImageOps.exif_transpose(image)
            return np.asarray(image.convert("RGB"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("the image has too many pixels") from None
    except Image.UnidentifiedImageError:
        raise UnsupportedType("the image is not a JPEG or PNG") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise CorruptDocument(f"the image cannot be decoded: {error}") from None
