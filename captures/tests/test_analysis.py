"""The offline capture analyser, on images generated here (no database)."""

import io
import json
from dataclasses import asdict

import barcode
import pytest
import qrcode
from barcode.writer import ImageWriter
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFilter
from PIL import ImageFont
from skimage import data as skimage_data

from captures import analysis
from captures.analysis import analyze_image
from captures.analysis import draw_boxes

SIZE = (640, 480)


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def decode(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def canvas(color=(255, 255, 255)) -> Image.Image:
    return Image.new("RGB", SIZE, color)


def shapes_scene() -> Image.Image:
    image = canvas((200, 200, 200))
    draw = ImageDraw.Draw(image)
    for offset in range(0, 640, 40):
        draw.line([(offset, 0), (offset, 479)], fill=(30, 30, 30), width=3)
    draw.rectangle([100, 100, 260, 220], fill=(200, 30, 30))
    draw.ellipse([350, 200, 520, 380], fill=(30, 60, 200))
    return image


def frame_with_rectangle(left: int) -> bytes:
    image = canvas((90, 90, 90))
    ImageDraw.Draw(image).rectangle([left, 180, left + 120, 300], fill="white")
    return encode(image, "PNG")


def test_qr_code_is_decoded_with_its_value_and_box():
    """A QR code in the frame appears in codes with its value and is labelled "qr"."""
    value = "https://mediaqueue.example/captures/42"
    symbol = qrcode.make(value, border=2).get_image().convert("RGB")
    symbol = symbol.resize((260, 260), Image.Resampling.NEAREST)
    image = canvas()
    image.paste(symbol, (190, 110))

    result = analyze_image(encode(image), ocr=False)

    qr_codes = [code for code in result.codes if code["type"] == "QRCODE"]
    assert [code["value"] for code in qr_codes] == [value]
    x, y, w, h = qr_codes[0]["box"]
    assert 170 <= x <= 220 and 90 <= y <= 140
    assert 200 <= w <= 300 and 200 <= h <= 300
    assert "qr" in result.labels


def test_ean13_barcode_is_decoded():
    """A crisp synthetic EAN-13 is read (the blurred retry) and labelled "barcode"."""
    writer_output = io.BytesIO()
    barcode.get("ean13", "4006381333931", writer=ImageWriter()).write(writer_output)
    symbol = decode(writer_output.getvalue()).convert("RGB")
    image = canvas()
    image.paste(symbol, ((640 - symbol.width) // 2, (480 - symbol.height) // 2))

    result = analyze_image(encode(image, "PNG"), ocr=False)

    assert {"type": "EAN_13", "value": "4006381333931"} in [
        {"type": code["type"], "value": code["value"]} for code in result.codes
    ]
    assert "barcode" in result.labels
    assert "qr" not in result.labels


def test_dark_frame_is_labelled_dark_and_shows_nothing():
    """A uniformly dark frame has brightness < 40, label "dark" and no detections."""
    result = analyze_image(encode(canvas((18, 18, 18))), ocr=False)

    assert result.brightness < 40
    assert "dark" in result.labels
    assert "bright" not in result.labels
    assert "blurry" not in result.labels
    assert result.people == [] and result.faces == [] and result.codes == []


def test_bright_frame_is_labelled_bright_and_shows_nothing():
    """A uniformly bright frame has brightness > 200, label "bright", no detections."""
    result = analyze_image(encode(canvas((235, 235, 235))), ocr=False)

    assert result.brightness > 200
    assert result.labels == ["bright"]
    assert result.people == [] and result.faces == []


def test_blurred_image_is_less_sharp_and_labelled_blurry():
    """Blurring lowers the Laplacian variance; the blurred copy is labelled blurry."""
    sharp_image = shapes_scene()
    blurred_image = sharp_image.filter(ImageFilter.GaussianBlur(6))

    sharp = analyze_image(encode(sharp_image, "PNG"), ocr=False)
    blurred = analyze_image(encode(blurred_image, "PNG"), ocr=False)

    assert blurred.sharpness < sharp.sharpness / 10
    assert "blurry" in blurred.labels
    assert "blurry" not in sharp.labels


def test_moved_rectangle_is_motion():
    """A rectangle that moved between frames gives motion > 0.01 and label "motion"."""
    result = analyze_image(
        frame_with_rectangle(400), previous=frame_with_rectangle(100), ocr=False
    )

    assert result.motion > 0.01
    assert "motion" in result.labels


def test_identical_frames_have_zero_motion():
    """The same frame twice gives motion == 0 and no "motion" label."""
    frame = frame_with_rectangle(200)

    result = analyze_image(frame, previous=frame, ocr=False)

    assert result.motion == 0
    assert "motion" not in result.labels


def test_motion_is_none_without_previous_frame():
    """Without a previous frame motion is None, not 0."""
    assert analyze_image(frame_with_rectangle(200), ocr=False).motion is None


def test_dominant_colors_of_half_red_half_blue():
    """A half-red, half-blue image has exactly those two colours, about half each."""
    image = canvas((255, 0, 0))
    ImageDraw.Draw(image).rectangle([320, 0, 639, 479], fill=(0, 0, 255))

    result = analyze_image(encode(image, "PNG"), ocr=False)

    assert {color["hex"] for color in result.dominant_colors} == {"#ff0000", "#0000ff"}
    for color in result.dominant_colors:
        assert color["share"] == pytest.approx(0.5, abs=0.02)


def test_rendered_text_is_read_by_ocr():
    """Large black text on white comes back from OCR, with a box around it."""
    image = canvas()
    font = ImageFont.load_default(size=44)
    ImageDraw.Draw(image).text(
        (30, 200), "Loading dock camera", fill="black", font=font
    )

    result = analyze_image(encode(image))

    words = result.text.lower().split()
    assert {"loading", "dock", "camera"} <= set(words)
    assert "text" in result.labels
    [text_box] = result.text_boxes
    x, y, w, h = text_box["box"]
    assert x < 60 and 180 < y < 220 and w > 300 and 30 < h < 90
    assert 0 < text_box["score"] <= 1


def test_ocr_disabled_gives_no_text():
    """With ocr=False the text fields stay empty and no OCR stage is timed."""
    image = canvas()
    font = ImageFont.load_default(size=44)
    ImageDraw.Draw(image).text((30, 200), "Loading dock", fill="black", font=font)

    result = analyze_image(encode(image), ocr=False)

    assert result.text == "" and result.text_boxes == []
    assert "ocr" not in result.timings_ms
    assert "text" not in result.labels


def test_astronaut_photo_has_a_face():
    """The astronaut photograph (scikit-image sample data) shows her face."""
    photo = Image.fromarray(skimage_data.astronaut())

    result = analyze_image(encode(photo), ocr=False)

    assert result.people or result.faces
    [face] = result.faces
    assert 140 < face["x"] < 220 and 30 < face["y"] < 110 and face["w"] > 60
    assert "face" in result.labels


def test_result_is_json_friendly_and_complete(tmp_path):
    """asdict() of a result (here from a file path) serialises to JSON as it is."""
    path = tmp_path / "capture.webp"
    shapes_scene().save(path, "WEBP")

    result = analyze_image(path, previous=str(path), ocr=False)
    as_dict = asdict(result)

    assert json.loads(json.dumps(as_dict)) == as_dict
    assert (result.width, result.height) == SIZE
    assert result.motion == 0
    assert {"decode", "people", "faces", "codes", "total"} <= set(result.timings_ms)


def test_garbage_bytes_raise_value_error():
    """Bytes that are not an image raise ValueError("not a decodable image")."""
    with pytest.raises(ValueError, match="not a decodable image"):
        analyze_image(b"this is not an image at all", ocr=False)
    with pytest.raises(ValueError, match="not a decodable image"):
        analyze_image(b"", ocr=False)


def test_garbage_previous_frame_raises_value_error():
    """A previous frame that does not decode raises ValueError naming it."""
    with pytest.raises(ValueError, match="previous frame: not a decodable image"):
        analyze_image(frame_with_rectangle(10), previous=b"\x00" * 64, ocr=False)


def test_draw_boxes_returns_jpeg_of_same_size():
    """draw_boxes gives a decodable JPEG the size of the capture, boxes drawn in."""
    photo = encode(Image.fromarray(skimage_data.astronaut()))
    result = asdict(analyze_image(photo, ocr=False))

    annotated = draw_boxes(photo, result)

    image = decode(annotated)
    assert image.format == "JPEG"
    assert image.size == (512, 512)
    assert annotated != photo


def test_analyzer_identity_is_exposed():
    """The analyser names itself so stored observations can record what made them."""
    assert analysis.ANALYZER_NAME == "mediaqueue-local"
    assert analysis.ANALYZER_VERSION == "1"


def test_a_large_capture_is_analysed_at_reduced_size_with_boxes_in_its_own_scale():
    """A 4096x4096 capture (16.8 MP) is decoded at half size, yet reports its own
    dimensions, and the face found is where the small original's face is, times 8."""
    astronaut = Image.fromarray(skimage_data.astronaut())
    small = analyze_image(encode(astronaut), ocr=False)
    large_bytes = encode(astronaut.resize((4096, 4096), Image.LANCZOS))

    frame, scale, size = analysis._decode_for_analysis(large_bytes)
    large = analyze_image(large_bytes, ocr=False)

    assert (scale, size) == (2, (4096, 4096))
    assert frame.shape[0] * frame.shape[1] <= analysis.ANALYSIS_MAX_PIXELS
    assert (large.width, large.height) == (4096, 4096)
    [small_face] = small.faces
    assert large.faces, "the face is still found at the reduced size"
    centre = (
        (small_face["x"] + small_face["w"] / 2) * 8,
        (small_face["y"] + small_face["h"] / 2) * 8,
    )
    nearest = min(
        large.faces,
        key=lambda face: abs(face["x"] + face["w"] / 2 - centre[0])
        + abs(face["y"] + face["h"] / 2 - centre[1]),
    )
    assert abs(nearest["x"] + nearest["w"] / 2 - centre[0]) < 200
    assert abs(nearest["y"] + nearest["h"] / 2 - centre[1]) < 200


def test_a_forty_megapixel_capture_decodes_at_a_sixteenth_of_its_pixels():
    """8000x5000 = 40 MP: libjpeg decodes it at 1/4 scale (2.5 MP)."""
    big = Image.new("RGB", (8000, 5000), (90, 120, 150))
    frame, scale, size = analysis._decode_for_analysis(encode(big))
    assert (scale, size) == (4, (8000, 5000))
    assert frame.shape[:2] == (1250, 2000)
