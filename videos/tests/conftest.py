"""Fixtures of the videos tests: clips made once per session, a loopback listener,
scratch space, videos made by the real service, gunicorn for tus clients."""

import secrets
import select
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import gunicorn_starter
from videos.tests import clips

GOP30 = {"keyframe_interval": 30}
# A variable frame rate: one second at 30 fps, then two at 10 fps.
VFR_TIMESTAMPS_MS = [round(index * 1000 / 30) for index in range(30)] + [
    1000 + index * 100 for index in range(20)
]

RECIPES: dict[str, Callable[[Path], Path]] = {
    "numbered.mp4": lambda path: clips.numbered_clip(
        path, **GOP30, creation_time="2024-05-06T07:08:09.000000Z"
    ),
    "one_keyframe.mp4": lambda path: clips.numbered_clip(path, audio=False),
    "silent.mp4": lambda path: clips.numbered_clip(path, audio=False, **GOP30),
    "faststart.mp4": lambda path: clips.numbered_clip(path, faststart=True, **GOP30),
    "rotated_cw90.mp4": lambda path: clips.numbered_clip(path, rotation_ccw=-90),
    "rotated_cw270.mp4": lambda path: clips.numbered_clip(
        path, rotation_ccw=90, audio=False
    ),
    "vfr.mp4": lambda path: clips.numbered_clip(path, timestamps_ms=VFR_TIMESTAMPS_MS),
    "surround.mp4": lambda path: clips.numbered_clip(
        path, seconds=1, audio_layout="5.1", audio_rate=96000
    ),
    "hd.mp4": lambda path: clips.numbered_clip(path, size=(960, 540), **GOP30),
    "quicktime.mov": lambda path: clips.numbered_clip(path, seconds=1),
    "numbered.mkv": lambda path: clips.numbered_clip(path, **GOP30),
    "numbered.webm": lambda path: clips.numbered_clip(
        path, video_codec="libvpx", audio_codec="libopus", **GOP30
    ),
    # PCM: MP3's negative start (encoder delay) shifts AVI frames by one slot.
    "numbered.avi": lambda path: clips.numbered_clip(
        path, video_codec="mpeg4", audio_codec="pcm_s16le", audio_rate=44100, **GOP30
    ),
    # Already what a proxy is: 480p, 10 fps, H.264 yuv420p + AAC.
    "proxy_faststart.mp4": lambda path: clips.numbered_clip(
        path, size=(640, 480), fps=10, seconds=2, faststart=True
    ),
    "proxy_moov_at_end.mp4": lambda path: clips.numbered_clip(
        path, size=(640, 480), fps=10, seconds=2
    ),
    "proxy.mkv": lambda path: clips.numbered_clip(
        path, size=(640, 480), fps=10, seconds=2
    ),
    "long.mp4": lambda path: clips.lavfi_clip(
        path, "testsrc2=size=640x480:rate=30:duration=12"
    ),
    "continuous.mp4": lambda path: clips.lavfi_clip(
        path, "testsrc2=size=320x240:rate=30:duration=3"
    ),
    "cuts.mp4": lambda path: clips.lavfi_clip(
        path,
        "testsrc2=size=320x240:rate=30:duration=2",
        "-f",
        "lavfi",
        "-i",
        "smptebars=size=320x240:rate=30:duration=2",
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=size=320x240:rate=30,trim=duration=2",
        "-filter_complex",
        "[0][1][2]concat=n=3:v=1:a=0",
    ),
}


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Callable[[str], Path]:
    """A generated clip by name (see RECIPES), made on first use."""
    directory = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = RECIPES[name](directory / name)
        return made[name]

    return get


@pytest.fixture(scope="session")
def truncated(clip, tmp_path_factory) -> Callable[[str], Path]:
    """The first half of a generated clip, as an interrupted transfer leaves it."""
    directory = tmp_path_factory.mktemp("truncated")

    def get(name: str) -> Path:
        path = directory / name
        if not path.exists():
            clips.cut_in_half(clip(name), path)
        return path

    return get


class LoopbackListener:
    """A listening socket on 127.0.0.1 that tells whether anything connected."""

    def __init__(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def was_contacted(self) -> bool:
        readable, _, _ = select.select([self.server], [], [], 0.3)
        return bool(readable)


@pytest.fixture
def listener():
    listening = LoopbackListener()
    yield listening
    listening.server.close()


# DJANGO SIDE -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def videos_settings(settings, tmp_path):
    """Scratch space of the test; analysis without OCR (its models take seconds to load)."""
    settings.VIDEOS_WORK_DIR = str(tmp_path / "videos-work")
    settings.VIDEOS_ANALYZE_OCR = False
    return settings


@pytest.fixture(autouse=True)
def default_profile(request):
    """The default proxy profile the migration creates (transactional tests flush it)."""
    if "django_db_setup" not in request.fixturenames:
        return None
    from videos.models import EncodingProfile

    request.getfixturevalue("_django_db_helper")
    profile, _ = EncodingProfile.objects.get_or_create(
        slug="proxy-480p",
        defaults={
            "name": "Proxy 480p 10 fps",
            "height": 480,
            "fps": 10,
            "is_default": True,
            "is_auto": True,
        },
    )
    return profile


def worker_env(settings, **extra: str) -> dict[str, str]:
    """What a worker process needs to see this test's media, scratch and video settings."""
    return {
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VIDEOS_WORK_DIR": str(settings.VIDEOS_WORK_DIR),
        "VIDEOS_ANALYZE_OCR": "false",
        **extra,
    }


@pytest.fixture
def make_video(clip, user):
    """make_video("numbered.mp4", owner=..., **fields) -> a Video made by the real service."""
    from videos import services

    def make(name: str = "numbered.mp4", *, owner=None, title: str = ""):
        copy = clip(name).with_name(f"copy-{secrets.token_hex(4)}-{name}")
        shutil.copyfile(clip(name), copy)
        created = services.video_create_from_file(
            path=copy, owner=owner or user, title=title, filename=name
        )
        copy.unlink(missing_ok=True)
        return created.video

    return make


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file())


def work_files(settings) -> list[Path]:
    root = Path(settings.VIDEOS_WORK_DIR)
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def start_gunicorn(tmp_path):
    start, servers = gunicorn_starter(tmp_path, default_workers=1)
    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def client_for_other(other_user):
    """An API client signed in as another (non-staff) user."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=other_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
