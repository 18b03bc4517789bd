"""The decoder sandbox and the small parsers: tus headers, byte ranges, first bytes."""

import base64
import hashlib
import io
import os
import signal
import time

import pytest

from videos import isolated
from videos import sandbox
from videos import tus
from videos.errors import CorruptVideo
from videos.errors import DecoderTimeout
from videos.errors import UnsupportedVideo
from videos.errors import UploadError
from videos.errors import VideoLimitExceeded
from videos.probe import VideoLimits
from videos.probe import read_metadata
from videos.ranges import Unsatisfiable
from videos.ranges import parse_range
from videos.sniff import check_head
from videos.storage_io import MeteredReader

OPTIONS = {"timeout_s": 10, "memory_bytes": 1024**3}


def test_probe_in_the_sandbox_answers_like_probe_in_process(clip):
    assert isolated.probe(
        clip("rotated_cw90.mp4"), limits=VideoLimits(), **OPTIONS
    ) == (read_metadata(clip("rotated_cw90.mp4")))


def test_errors_raised_in_the_child_arrive_typed(clip, tmp_path):
    playlist = tmp_path / "a.mp4"
    playlist.write_text("#EXTM3U\nhttp://example.invalid/a.ts\n")

    with pytest.raises(UnsupportedVideo, match="HLS playlist"):
        isolated.probe(playlist, limits=VideoLimits(), **OPTIONS)
    with pytest.raises(VideoLimitExceeded) as limited:
        isolated.probe(clip("hd.mp4"), limits=VideoLimits(max_width=640), **OPTIONS)
    assert limited.value.extra == {"limit": "width"}


def test_a_crashing_decoder_costs_only_the_child():
    def crash(emit):
        os.kill(os.getpid(), signal.SIGSEGV)

    with pytest.raises(CorruptVideo, match="SIGSEGV"):
        sandbox.run_to_end(crash, **OPTIONS)


def test_a_hanging_decoder_is_killed_at_its_deadline():
    started = time.monotonic()

    with pytest.raises(DecoderTimeout, match="longer than 0.5 s"):
        sandbox.run_to_end(
            lambda emit: time.sleep(30), timeout_s=0.5, memory_bytes=1024**3
        )

    assert time.monotonic() - started < 3


def test_a_decoder_that_wants_too_much_memory_is_refused():
    def hog(emit):
        bytearray(512 * 1024**2)

    with pytest.raises(VideoLimitExceeded, match="more memory"):
        sandbox.run_to_end(hog, timeout_s=10, memory_bytes=64 * 1024**2)


def test_leaving_a_scan_early_kills_the_child(clip):
    reports = []
    before = set(_children())
    with isolated.scan(
        clip("long.mp4"),
        every_s=1,
        on_progress=lambda done, expected: reports.append(done),
        limits=VideoLimits(),
        **OPTIONS,
    ) as events:
        first = next(events)

    assert first.at_s == 0
    assert set(_children()) <= before


def _children() -> list[int]:
    from videos.tests import clips

    return clips.process_children(os.getpid())


# tus headers ---------------------------------------------------------------------------


def test_metadata_pairs_decode_and_encode_back():
    header = f"filename {base64.b64encode('été.mp4'.encode()).decode()},is_private"

    parsed = tus.parse_metadata(header)

    assert parsed == {"filename": "été.mp4", "is_private": ""}
    assert tus.parse_metadata(tus.format_metadata(parsed)) == parsed


@pytest.mark.parametrize(
    "header",
    [
        "filename !!!",
        "a b c",
        " ,x",
        "name AA==,name AA==",
        "k " + base64.b64encode(b"a\x00b").decode(),
    ],
)
def test_malformed_metadata_is_refused(header):
    with pytest.raises(UploadError):
        tus.parse_metadata(header)


def test_checksum_headers_name_a_known_algorithm_and_a_digest_of_its_size():
    digest = hashlib.sha256(b"x").digest()

    assert tus.parse_checksum(f"sha256 {base64.b64encode(digest).decode()}") == (
        "sha256",
        digest,
    )
    assert tus.parse_checksum(None) is None
    for bad in (
        "md5 AAAA",
        "sha256",
        "sha256 !!!",
        "sha1 " + base64.b64encode(digest).decode(),
    ):
        with pytest.raises(UploadError):
            tus.parse_checksum(bad)


# ranges and first bytes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=0-1,5-6", None),
        ("items=0-5", None),
        ("bytes=9-3", None),
    ],
)
def test_byte_ranges(header, expected):
    assert parse_range(header, 1000) == expected


def test_a_range_past_the_end_is_unsatisfiable():
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=1000-", 1000)
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=-0", 1000)


def test_first_bytes_of_known_containers_pass_others_are_refused(clip):
    for name in ("numbered.mp4", "numbered.mkv", "numbered.webm", "numbered.avi"):
        check_head(clip(name).read_bytes()[:64])
    check_head(b"RIFF")  # too short to tell
    with pytest.raises(UnsupportedVideo, match="HEIF/AVIF"):
        check_head(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00")
    with pytest.raises(UnsupportedVideo, match="text"):
        check_head(b"just some words here")


class Dropping(io.BytesIO):
    """A request body whose client goes away after some bytes."""

    def read(self, size=-1):
        if self.tell() >= 10:
            raise ConnectionResetError("peer went away")
        return super().read(min(size, 4))


def test_metered_reader_keeps_what_arrived_before_the_client_went_away():
    reader = MeteredReader(Dropping(b"0123456789abcdef"), limit=16)

    data = b"".join(iter(lambda: reader.read(1024), b""))

    assert data == b"0123456789ab"
    assert reader.count == 12
    assert reader.is_complete is False
    assert reader.sha256.hexdigest() == hashlib.sha256(data).hexdigest()
