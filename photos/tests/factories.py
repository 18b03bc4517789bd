"""Factories of sessions, photos, groups, presets and exports (rows only; no files)."""

import hashlib

import factory
from django.contrib.auth import get_user_model

from photos.models import Export
from photos.models import Photo
from photos.models import PhotoSession
from photos.models import Preset
from photos.models import SimilarGroup


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"photographer-{n}")


class PhotoSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhotoSession

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"shoot {n}")


class PresetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Preset

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"preset {n}")
    adjustments = factory.LazyFunction(lambda: {"exposure": 0.5, "contrast": 10})
    rules = factory.LazyFunction(lambda: [{"labels_any": ["portrait"]}])


class PhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Photo

    owner = factory.SubFactory(UserFactory)
    session = factory.SubFactory(
        PhotoSessionFactory, owner=factory.SelfAttribute("..owner")
    )
    original = factory.Sequence(lambda n: f"photos/originals/factory/{n}.jpg")
    original_name = factory.Sequence(lambda n: f"IMG_{n:04d}.JPG")
    sha256 = factory.Sequence(
        lambda n: hashlib.sha256(f"photo {n}".encode()).hexdigest()
    )
    format = "JPEG"
    content_type = "image/jpeg"
    size_bytes = 4096
    width = 640
    height = 480


class SimilarGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SimilarGroup

    session = factory.SubFactory(PhotoSessionFactory)
    owner = factory.SelfAttribute("session.owner")
    photo_count = 2
    best_photo = factory.SubFactory(
        PhotoFactory,
        owner=factory.SelfAttribute("..session.owner"),
        session=factory.SelfAttribute("..session"),
    )


class ExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Export

    photo = factory.SubFactory(PhotoFactory)
    owner = factory.SelfAttribute("photo.owner")
    preset = factory.SubFactory(
        PresetFactory, owner=factory.SelfAttribute("..photo.owner")
    )
