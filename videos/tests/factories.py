"""Factories of videos, profiles, renditions and uploads (rows only; no media files)."""

import hashlib
import uuid
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Upload
from videos.models import UploadPart
from videos.models import Video


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"video-user-{n}")


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    id = factory.LazyFunction(uuid.uuid4)
    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"clip {n}")
    original = factory.LazyAttribute(lambda video: f"videos/{video.id}/original.mp4")
    original_filename = "clip.mp4"
    size_bytes = 1_000_000
    sha256 = factory.Sequence(lambda n: hashlib.sha256(str(n).encode()).hexdigest())
    container = "mp4"
    duration_s = 3.0
    width = 320
    height = 240
    fps = 30.0
    video_codec = "h264"
    audio_codec = "aac"
    rotation = 0


class EncodingProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EncodingProfile

    slug = factory.Sequence(lambda n: f"profile-{n}")
    name = factory.LazyAttribute(lambda profile: f"Profile {profile.slug}")
    height = 360
    fps = 15


class RenditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rendition

    video = factory.SubFactory(VideoFactory)
    profile = factory.SubFactory(EncodingProfileFactory)
    status = Rendition.Status.PENDING


class UploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Upload

    owner = factory.SubFactory(UserFactory)
    protocol = Upload.Protocol.MULTIPART
    filename = "clip.mp4"
    size_bytes = 3 * 1024 * 1024
    part_size_bytes = 1024 * 1024
    part_count = 3
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class UploadPartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadPart

    upload = factory.SubFactory(UploadFactory)
    number = factory.Sequence(lambda n: n + 1)
    offset_bytes = 0
    size_bytes = 1024
    sha256 = "0" * 64
    name = factory.Sequence(lambda n: f"video-uploads/factory/{n}.part")
