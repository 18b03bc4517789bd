"""The 480p/10 fps proxy, made by a real ffmpeg child process (no database)."""

import io
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from videos import thumbnail
from videos import transcode
from videos.errors import CorruptVideo
from videos.errors import TranscodeCancelled
from videos.errors import TranscodeFailed
from videos.errors import UnsupportedVideo
from videos.probe import read_metadata
from videos.tests import clips

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Slow enough per frame that a cancel or a kill lands mid-encode.
SLOW = transcode.ProxySettings(preset="veryslow")


def ffmpeg_children() -> list[int]:
    return [
        pid
        for pid in clips.process_children(os.getpid())
        if b"ffmpeg" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def frame_at(path: Path, at_s: float) -> Image.Image:
    return Image.open(io.BytesIO(thumbnail.thumbnail(path, at_s=at_s).jpeg))


def test_proxy_of_a_540p_clip_is_480p_10fps_h264_aac_faststart(clip, tmp_path):
    destination = tmp_path / "proxy.mp4"

    result = transcode.make_proxy(clip("hd.mp4"), destination)

    proxy = result.metadata
    assert result.method == "encode"
    assert result.path == destination
    assert destination.exists() is True
    assert (proxy.width, proxy.height) == (854, 480)
    assert proxy.fps == 10
    assert proxy.is_variable_fps is False
    assert (proxy.video_codec, proxy.pixel_format) == ("h264", "yuv420p")
    assert (proxy.audio_codec, proxy.audio_channels) == ("aac", 2)
    assert proxy.container == "mp4"
    assert proxy.is_faststart is True
    assert proxy.duration_s == pytest.approx(3.0, abs=0.1)
    assert proxy.frame_count == 30
    # Frame k of the proxy is frame 3k of the 30 fps source, give or take the
    # one the AAC encoder delay shifts the 10 fps grid by (sync is kept).
    assert abs(clips.frame_number(frame_at(destination, 1.0)) - 30) <= 1


def test_source_without_audio_gives_a_proxy_without_audio(clip, tmp_path):
    """A 240-line source keeps its height: a proxy is never upscaled."""
    result = transcode.make_proxy(clip("silent.mp4"), tmp_path / "proxy.mp4")

    assert result.method == "encode"
    assert result.metadata.has_audio is False
    assert (result.metadata.width, result.metadata.height) == (320, 240)
    assert result.metadata.fps == 10


def test_surround_high_rate_audio_becomes_stereo_48khz(clip, tmp_path):
    source = read_metadata(clip("surround.mp4"))

    result = transcode.make_proxy(clip("surround.mp4"), tmp_path / "proxy.mp4")

    assert (source.audio_channels, source.audio_sample_rate) == (6, 96000)
    assert result.metadata.audio_channels == 2
    assert result.metadata.audio_sample_rate == 48000


@pytest.mark.parametrize(
    ("name", "corner"),
    [("rotated_cw90.mp4", "top-right"), ("rotated_cw270.mp4", "bottom-left")],
)
def test_rotated_source_comes_out_upright(clip, tmp_path, name, corner):
    """Pixels turned, no display matrix left: every player shows it the same way."""
    destination = tmp_path / "proxy.mp4"

    result = transcode.make_proxy(clip(name), destination)

    assert (result.metadata.width, result.metadata.height) == (240, 320)
    assert result.metadata.rotation == 0
    assert clips.marker_corner(frame_at(destination, 1.0)) == corner


def test_variable_rate_source_comes_out_at_constant_10fps(clip, tmp_path):
    """Each proxy frame is the source frame nearest its time on the 10 fps grid.

    Give or take one source frame: the AAC encoder delay shifts the grid.
    """
    destination = tmp_path / "proxy.mp4"

    result = transcode.make_proxy(clip("vfr.mp4"), destination)

    assert result.metadata.is_variable_fps is False
    assert result.metadata.fps == 10
    assert result.metadata.has_audio is True
    assert abs(clips.frame_number(frame_at(destination, 0.5)) - 15) <= 1
    # At 10 fps in the source too from 1 s on: frame 40 is at 2.0 s exactly.
    assert clips.frame_number(frame_at(destination, 2.0)) == 40


def test_source_already_a_faststart_proxy_is_skipped(clip, tmp_path):
    destination = tmp_path / "proxy.mp4"

    result = transcode.make_proxy(clip("proxy_faststart.mp4"), destination)

    assert result.method == "skip"
    assert result.path is None
    assert destination.exists() is False
    assert (result.metadata.width, result.metadata.fps) == (640, 10)


@pytest.mark.parametrize("name", ["proxy_moov_at_end.mp4", "proxy.mkv"])
def test_source_already_a_proxy_is_remuxed_not_reencoded(clip, tmp_path, name):
    """Stream copy into a faststart MP4: same frames, same size, same rate."""
    destination = tmp_path / "proxy.mp4"

    result = transcode.make_proxy(clip(name), destination)

    assert result.method == "copy"
    assert result.metadata.container == "mp4"
    assert result.metadata.is_faststart is True
    assert (result.metadata.width, result.metadata.height) == (640, 480)
    assert result.metadata.fps == 10
    assert result.metadata.audio_codec == "aac"
    assert clips.frame_number(frame_at(destination, 1.0)) == 10


def test_failed_stream_copy_falls_back_to_encoding(clip, tmp_path, monkeypatch):
    """A copy the muxer refuses is encoded instead; progress still never goes back."""
    make_command = transcode.proxy_command

    def refused_copy(*args, method="encode", **kwargs):
        command = make_command(*args, method=method, **kwargs)
        return (
            [*command[:-1], "-no_such_option", "1", command[-1]]
            if method == "copy"
            else command
        )

    monkeypatch.setattr(transcode, "proxy_command", refused_copy)
    reports = []

    result = transcode.make_proxy(
        clip("proxy.mkv"),
        tmp_path / "proxy.mp4",
        on_progress=lambda done, expected: reports.append(done / expected),
    )

    assert result.method == "encode"
    assert (result.metadata.width, result.metadata.height) == (640, 480)
    assert reports == sorted(reports)
    assert reports[-1] == 1


def test_proxy_plan_says_why_a_source_is_encoded(clip):
    """Rotation, variable rate, size and codec each call for an encode."""
    plans = {
        name: transcode.proxy_plan(read_metadata(clip(name)))
        for name in ("rotated_cw90.mp4", "vfr.mp4", "hd.mp4", "numbered.webm")
    }

    assert set(plans.values()) == {"encode"}


def test_progress_rises_monotonically_to_100_percent(clip, tmp_path):
    reports = []

    transcode.make_proxy(
        clip("long.mp4"),
        tmp_path / "proxy.mp4",
        on_progress=lambda done, expected: reports.append((done, expected)),
    )

    percents = [100 * done / expected for done, expected in reports]
    assert len(reports) >= 3
    assert {expected for _, expected in reports} == {120}
    assert percents == sorted(percents)
    assert percents[0] < 100
    assert percents[-1] == 100


def test_cancel_mid_encode_stops_within_a_second_and_leaves_nothing(clip, tmp_path):
    destination = tmp_path / "proxy.mp4"
    progress = []
    asked_at = []

    def should_cancel() -> bool:
        if progress and not asked_at:
            asked_at.append(time.monotonic())
        return bool(asked_at)

    with pytest.raises(TranscodeCancelled, match="cancelled"):
        transcode.make_proxy(
            clip("long.mp4"),
            destination,
            settings=SLOW,
            on_progress=lambda done, expected: progress.append(done),
            should_cancel=should_cancel,
        )

    assert time.monotonic() - asked_at[0] < 1.0
    assert progress[-1] < 120
    assert list(tmp_path.iterdir()) == []
    assert ffmpeg_children() == []


def test_cancelled_run_leaves_the_previous_proxy_untouched(clip, tmp_path):
    """Nothing but a complete proxy is ever at the destination."""
    destination = tmp_path / "proxy.mp4"
    destination.write_bytes(b"the previous proxy")

    with pytest.raises(TranscodeCancelled):
        transcode.make_proxy(
            clip("long.mp4"), destination, settings=SLOW, should_cancel=lambda: True
        )

    assert destination.read_bytes() == b"the previous proxy"
    assert [path.name for path in tmp_path.iterdir()] == ["proxy.mp4"]


def test_killed_worker_takes_ffmpeg_with_it_and_next_run_cleans_up(clip, tmp_path):
    """SIGKILL to the worker ends the ffmpeg child; its partial file goes on the rerun."""
    destination = tmp_path / "proxy.mp4"
    script = (
        "import sys\n"
        "from videos import transcode\n"
        "transcode.make_proxy(sys.argv[1], sys.argv[2],"
        " settings=transcode.ProxySettings(preset='veryslow'),"
        " on_progress=lambda done, expected: print(done, flush=True))\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script, str(clip("long.mp4")), str(destination)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
    )
    try:
        readable, _, _ = select.select([worker.stdout], [], [], 30)
        assert readable, "the worker reported no progress"
        encoders = clips.process_children(worker.pid)
        assert len(encoders) == 1
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker.stdout.close()

    deadline = time.monotonic() + 2
    while clips.is_alive(encoders[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert clips.is_alive(encoders[0]) is False
    assert destination.exists() is False
    assert len(list(tmp_path.glob(".proxy.mp4.*.part"))) == 1

    result = transcode.make_proxy(clip("silent.mp4"), destination)

    assert result.path == destination
    assert [path.name for path in tmp_path.iterdir()] == ["proxy.mp4"]


def test_time_limit_kills_the_encoder(clip, tmp_path):
    with pytest.raises(TranscodeFailed, match="longer than its time limit"):
        transcode.make_proxy(
            clip("long.mp4"), tmp_path / "proxy.mp4", settings=SLOW, timeout_s=0.5
        )

    assert list(tmp_path.iterdir()) == []
    assert ffmpeg_children() == []


def test_encoder_error_is_typed_with_ffmpeg_message_and_leaves_nothing(clip, tmp_path):
    broken = transcode.ProxySettings(preset="no-such-preset")

    with pytest.raises(TranscodeFailed, match="ffmpeg exited with status") as caught:
        transcode.make_proxy(
            clip("silent.mp4"), tmp_path / "proxy.mp4", settings=broken
        )

    assert "preset" in caught.value.detail
    assert list(tmp_path.iterdir()) == []


def test_truncated_source_is_a_typed_error_not_a_hang(truncated, tmp_path):
    started = time.monotonic()

    with pytest.raises(CorruptVideo, match="truncated"):
        transcode.make_proxy(truncated("numbered.mp4"), tmp_path / "proxy.mp4")

    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


def test_playlist_posing_as_mp4_is_refused_without_fetching(tmp_path, listener):
    path = clips.write_text(
        tmp_path / "clip.mp4", f"#EXTM3U\n#EXTINF:10,\n{listener.url('a.ts')}\n"
    )

    with pytest.raises(UnsupportedVideo, match="HLS playlist"):
        transcode.make_proxy(path, tmp_path / "proxy.mp4")
    assert listener.was_contacted() is False


def test_command_forces_the_demuxer_and_the_file_protocol(clip, tmp_path):
    """The ffmpeg input is a file: URL, the sniffed demuxer, file as the only protocol."""
    metadata = read_metadata(clip("numbered.mkv"))
    command = transcode.proxy_command(
        clip("numbered.mkv"), tmp_path / "out.mp4", metadata=metadata
    )

    source = command.index(f"file:{clip('numbered.mkv')}")
    assert command[source - 1] == "-i"
    assert command[command.index("-protocol_whitelist") + 1] == "file"
    assert command[command.index("-f") + 1] == "matroska"
