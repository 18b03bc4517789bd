"""Fixtures of the photos tests: photos imported through the real service."""

import importlib

import pytest
from django.apps import apps

from photos import services
from photos.tests import images


@pytest.fixture
def jpeg():
    """jpeg(name="astronaut", size=320, **exif) -> bytes of a real sample photograph."""

    def make(
        name: str = "astronaut", size: int = 320, exif: dict | None = None
    ) -> bytes:
        image = images.photograph(name, size=size)
        return images.jpeg_with_exif(image, exif) if exif else images.encode(image)

    return make


@pytest.fixture
def import_photo(user):
    """import_photo(data, owner=user, session=None, name=..., analyze=True) -> Photo."""

    def make(
        data: bytes, *, owner=None, session=None, name="IMG_0001.JPG", analyze=True
    ):
        result = services.photo_import(
            owner=owner or user, data=data, name=name, session=session, analyze=analyze
        )
        return result.photo

    return make


@pytest.fixture
def analysed(import_photo):
    """analysed(data, **import options) -> Photo imported and analysed in this process."""

    def make(data: bytes, **options):
        photo = import_photo(data, **options)
        services.photo_analyze(photo_id=photo.pk)
        photo.refresh_from_db()
        return photo

    return make


@pytest.fixture
def shared_presets(django_db_blocker):
    """The shared presets the data migration seeds; seeded again if a flush removed them.

    Transactional tests (real workers) flush the test database, and with
    --reuse-db the migration does not run again.
    """
    seeding = importlib.import_module("photos.migrations.0002_default_presets")
    with django_db_blocker.unblock():
        seeding.create_presets(apps, None)
