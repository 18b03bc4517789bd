"""Container sniffing, metadata and limits, on generated clips (no database)."""

import json
import os
import socket
import struct
import subprocess
from datetime import UTC
from datetime import datetime
from fractions import Fraction

import av
import pytest

from videos import probe
from videos.errors import CorruptVideo
from videos.errors import UnsupportedVideo
from videos.errors import VideoLimitExceeded
from videos.ffmpeg import ffmpeg_input_args
from videos.sniff import Sniffed
from videos.sniff import sniff_path
from videos.tests import clips

FRAME_S = 1 / 30


def test_mp4_metadata_is_exact(clip):
    """Duration within a frame, rate, size, codecs, audio layout and creation time."""
    metadata = probe.read_metadata(clip("numbered.mp4"))

    assert metadata.container == "mp4"
    assert metadata.demuxer == "mov"
    assert abs(metadata.duration_s - 3.0) <= FRAME_S
    assert (metadata.width, metadata.height) == (320, 240)
    assert metadata.display_aspect_ratio == Fraction(4, 3)
    assert metadata.display_size == (320, 240)
    assert metadata.fps == 30
    assert metadata.is_variable_fps is False
    assert metadata.frame_count == 90
    assert metadata.video_codec == "h264"
    assert metadata.pixel_format == "yuv420p"
    assert metadata.audio_codec == "aac"
    assert metadata.audio_channels == 2
    assert metadata.audio_sample_rate == 48000
    assert metadata.rotation == 0
    assert metadata.creation_time == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert metadata.is_faststart is False
    expected_bitrate = metadata.size_bytes * 8 / metadata.duration_s
    assert abs(metadata.bitrate - expected_bitrate) / expected_bitrate < 0.05


def test_metadata_as_dict_is_json(clip):
    """as_dict() gives JSON-ready values: aspect as "4:3", time in ISO 8601."""
    values = probe.read_metadata(clip("numbered.mp4")).as_dict()

    assert json.loads(json.dumps(values))["display_aspect_ratio"] == "4:3"
    assert values["creation_time"] == "2024-05-06T07:08:09+00:00"


def test_faststart_mp4_says_so(clip):
    assert probe.read_metadata(clip("faststart.mp4")).is_faststart is True


def test_clip_without_audio_has_no_audio_fields(clip):
    metadata = probe.read_metadata(clip("silent.mp4"))

    assert metadata.has_audio is False
    assert metadata.audio_codec is None
    assert metadata.audio_channels is None
    assert metadata.audio_sample_rate is None


@pytest.mark.parametrize(
    ("name", "rotation", "display_size"),
    [("rotated_cw90.mp4", 90, (240, 320)), ("rotated_cw270.mp4", 270, (240, 320))],
)
def test_rotation_comes_from_the_display_matrix(clip, name, rotation, display_size):
    """Clockwise degrees to turn upright; the display size is the upright one."""
    metadata = probe.read_metadata(clip(name))

    assert metadata.rotation == rotation
    assert (metadata.width, metadata.height) == (320, 240)
    assert metadata.display_size == display_size
    assert metadata.display_aspect_ratio == Fraction(3, 4)


def test_variable_frame_rate_is_detected(clip):
    """30 frames in the first second, 20 in the next two: variable, average in between."""
    metadata = probe.read_metadata(clip("vfr.mp4"))

    assert metadata.is_variable_fps is True
    assert metadata.frame_count == 50
    assert 10 < metadata.fps < 30


def test_constant_rate_webm_matroska_and_avi_are_read(clip):
    """The three container families, each with its usual codecs."""
    webm = probe.read_metadata(clip("numbered.webm"))
    matroska = probe.read_metadata(clip("numbered.mkv"))
    avi = probe.read_metadata(clip("numbered.avi"))

    assert (webm.container, webm.video_codec, webm.audio_codec) == (
        "webm",
        "vp8",
        "opus",
    )
    assert (matroska.container, matroska.video_codec) == ("matroska", "h264")
    assert (avi.container, avi.video_codec, avi.audio_sample_rate) == (
        "avi",
        "mpeg4",
        44100,
    )
    for metadata in (webm, matroska, avi):
        assert metadata.fps == 30
        assert metadata.is_variable_fps is False
        assert abs(metadata.duration_s - 3.0) <= FRAME_S
        assert (metadata.width, metadata.height) == (320, 240)


def test_quicktime_brand_is_named_mov(clip):
    assert probe.read_metadata(clip("quicktime.mov")).container == "mov"


def test_padding_after_a_complete_mp4_is_tolerated(clip, tmp_path):
    path = tmp_path / "padded.mp4"
    path.write_bytes(clip("numbered.mp4").read_bytes() + bytes(4096))

    assert probe.read_metadata(path).frame_count == 90


def test_truncated_mp4_with_index_at_the_end_is_corrupt(truncated):
    with pytest.raises(CorruptVideo, match="truncated"):
        probe.read_metadata(truncated("numbered.mp4"))


def test_truncated_faststart_mp4_is_corrupt_before_decoding(truncated):
    """The index is complete but the media box runs past the end of the file."""
    with pytest.raises(CorruptVideo, match="truncated: its 'mdat' box ends at byte"):
        probe.read_metadata(truncated("faststart.mp4"))


@pytest.mark.parametrize("name", ["numbered.mkv", "numbered.avi"])
def test_truncated_matroska_and_avi_are_corrupt(truncated, name):
    with pytest.raises(CorruptVideo, match="truncated"):
        probe.read_metadata(truncated(name))


def test_corrupt_error_knows_its_http_status(truncated):
    with pytest.raises(CorruptVideo) as caught:
        probe.read_metadata(truncated("numbered.mp4"))

    assert caught.value.status == 422
    assert caught.value.as_dict()["error"] == "corrupt_video"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "something else"),
        (b"Just some notes, not a video.\n", "text"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32), "RIFF 'WAVE'"),
        (b"", "empty"),
    ],
)
def test_non_video_content_is_unsupported_whatever_its_name(tmp_path, content, message):
    """Refused with 415 and a message naming what it looks like."""
    path = tmp_path / "holiday.mp4"
    path.write_bytes(content)

    with pytest.raises(UnsupportedVideo, match=message) as caught:
        probe.read_metadata(path)
    assert caught.value.status == 415


def test_mp4_with_only_audio_is_unsupported(tmp_path):
    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w") as output:
        stream = output.add_stream("aac", rate=48000, layout="mono")
        frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
        frame.sample_rate = 48000
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        output.mux(stream.encode(frame))
        output.mux(stream.encode(None))

    with pytest.raises(UnsupportedVideo, match="no video stream"):
        probe.read_metadata(path)


def test_heif_image_is_not_a_video(tmp_path):
    path = tmp_path / "photo.mp4"
    path.write_bytes(struct.pack(">I4s4sI", 24, b"ftyp", b"heic", 0) + b"mif1heic")

    with pytest.raises(UnsupportedVideo, match="HEIF/AVIF image"):
        probe.read_metadata(path)


def test_fifo_and_device_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    device = tmp_path / "zero.mp4"
    device.symlink_to("/dev/zero")

    for path in (fifo, device):
        with pytest.raises(UnsupportedVideo, match="Not a regular file"):
            probe.read_metadata(path)


def test_limits_refuse_before_decoding(clip, tmp_path):
    """Header values decide: a clip whose frames are garbage is refused on its size alone."""
    content = bytearray(clip("faststart.mp4").read_bytes())
    media_start = content.index(b"mdat") + 4
    content[media_start:] = bytes(len(content) - media_start)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(bytes(content))

    with pytest.raises(VideoLimitExceeded, match="320 pixels on the long side"):
        probe.read_metadata(garbage, limits=probe.VideoLimits(max_width=300))
    with pytest.raises(UnsupportedVideo, match="could be decoded|cannot be decoded"):
        probe.read_metadata(garbage)


def test_ffmpeg_stream_probing_allocates_no_picture_over_the_limits(clip):
    """FFmpeg's own probing decodes a frame; max_pixels stops it at the limits."""
    limits = probe.VideoLimits(max_width=300, max_height=200)
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs, pytest.raises(VideoLimitExceeded):
            probe.read_metadata(clip("numbered.mp4"), limits=limits)
    finally:
        av.logging.set_level(level)

    assert any("exceeds specified max pixel count 60000" in log[2] for log in logs)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (probe.VideoLimits(max_size_bytes=1000), "bytes, more than the 1000 allowed"),
        (probe.VideoLimits(max_duration_s=2), "3 seconds, more than the 2 allowed"),
        (probe.VideoLimits(max_height=200), "240 pixels on the short side"),
        (probe.VideoLimits(max_fps=25), "30 frames per second"),
    ],
)
def test_each_limit_is_enforced(clip, limits, message):
    with pytest.raises(VideoLimitExceeded, match=message) as caught:
        probe.read_metadata(clip("numbered.mp4"), limits=limits)
    assert caught.value.status == 413


def test_hls_playlist_posing_as_mp4_is_refused_without_fetching(tmp_path, listener):
    path = clips.write_text(
        tmp_path / "clip.mp4",
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
        f"#EXTINF:10,\n{listener.url('segment.ts')}\n#EXT-X-ENDLIST\n",
    )

    with pytest.raises(UnsupportedVideo, match="an HLS playlist"):
        probe.read_metadata(path)
    assert listener.was_contacted() is False


def test_concat_list_posing_as_mp4_is_refused_without_reading_its_entries(
    tmp_path, clip, listener
):
    """Neither the URL nor the local clip it lists is opened: no metadata comes back."""
    path = clips.write_text(
        tmp_path / "clip.mp4",
        f"ffconcat version 1.0\nfile '{clip('numbered.mp4')}'\n"
        f"file '{listener.url('next.mp4')}'\n",
    )

    with pytest.raises(UnsupportedVideo, match="an FFmpeg concat list"):
        probe.read_metadata(path)
    assert listener.was_contacted() is False


def test_playlist_forced_through_the_mov_demuxer_fetches_nothing(tmp_path, listener):
    """Past the sniffer, the forced demuxer and the refused nested opens still hold."""
    path = clips.write_text(
        tmp_path / "clip.mp4", f"#EXTM3U\n#EXTINF:10,\n{listener.url('a.ts')}\n"
    )
    disguised = Sniffed("mov", "mp4", path.stat().st_size)

    with (
        pytest.raises(CorruptVideo, match="cannot read"),
        probe.open_video(path, sniffed=disguised),
    ):
        pass
    assert listener.was_contacted() is False


def test_only_the_accepted_demuxers_can_be_forced(tmp_path, listener):
    path = clips.write_text(
        tmp_path / "list.m3u8", f"#EXTM3U\n{listener.url('a.ts')}\n"
    )

    for demuxer in ("hls", "concat"):
        with (
            pytest.raises(ValueError, match="Refusing to force"),
            probe.open_video(path, sniffed=Sniffed(demuxer, demuxer, 10)),
        ):
            pass
    assert listener.was_contacted() is False


@pytest.mark.parametrize("template", ["{url}", "concat:{clip}|{clip}", "file:{clip}"])
def test_urls_and_protocols_given_as_paths_are_plain_missing_files(
    clip, listener, template
):
    """A path is only ever a local file name; protocol prefixes mean nothing."""
    path = template.format(url=listener.url("clip.mp4"), clip=clip("numbered.mp4"))

    with pytest.raises(FileNotFoundError):
        probe.read_metadata(path)
    assert listener.was_contacted() is False


def test_ffmpeg_command_line_input_is_pinned_to_the_local_file(tmp_path, listener):
    """ffmpeg given our input options on an HLS file forced as MOV fails, fetching nothing."""
    path = clips.write_text(
        tmp_path / "clip.mp4", f"#EXTM3U\n#EXTINF:10,\n{listener.url('a.ts')}\n"
    )
    command = [clips.ffmpeg_executable(), "-nostdin", "-loglevel", "error"]
    command += [*ffmpeg_input_args(path, "mov"), "-f", "null", "-"]

    finished = subprocess.run(command, capture_output=True, timeout=30)

    assert finished.returncode != 0
    assert listener.was_contacted() is False


def test_plain_ffmpeg_reads_what_a_concat_list_names_ours_does_not(clip, tmp_path):
    """The local file-read trick: a .mp4 that is a concat list naming another file."""
    (tmp_path / "private.mp4").write_bytes(clip("numbered.mp4").read_bytes())
    path = clips.write_text(
        tmp_path / "upload.mp4", "ffconcat version 1.0\nfile 'private.mp4'\n"
    )
    plain = [
        clips.ffmpeg_executable(),
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(path),
    ]
    pinned = [clips.ffmpeg_executable(), "-nostdin", "-loglevel", "error"]
    pinned += ffmpeg_input_args(path, "mov")

    followed = subprocess.run(
        [*plain, "-f", "null", "-"], capture_output=True, timeout=30
    )
    refused = subprocess.run(
        [*pinned, "-f", "null", "-"], capture_output=True, timeout=30
    )

    assert followed.returncode == 0
    assert refused.returncode != 0


def test_listener_notices_a_connection(listener):
    """The check the refusal tests rely on does see a connection attempt."""
    with socket.create_connection(("127.0.0.1", listener.port), timeout=1):
        assert listener.was_contacted() is True


def test_sniff_reports_demuxer_and_faststart(clip):
    assert sniff_path(clip("faststart.mp4")) == Sniffed(
        "mov", "mp4", clip("faststart.mp4").stat().st_size, True
    )
    assert sniff_path(clip("numbered.webm")).demuxer == "matroska"
    assert sniff_path(clip("numbered.avi")).demuxer == "avi"
