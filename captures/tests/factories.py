"""Factories of devices, captures and observations (rows only; no image files)."""

import hashlib

import factory
from django.utils import timezone

from captures.models import Capture
from captures.models import Device
from captures.models import Observation


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    device_id = factory.Sequence(lambda n: f"cam-{n:03d}")
    name = factory.LazyAttribute(lambda device: f"camera {device.device_id}")
    api_key_hash = factory.LazyAttribute(
        lambda device: hashlib.sha256(device.device_id.encode()).hexdigest()
    )


class CaptureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Capture

    device = factory.SubFactory(DeviceFactory)
    image = factory.Sequence(lambda n: f"captures/factory/{n}.jpg")
    content_type = "image/jpeg"
    size_bytes = 1024
    width = 640
    height = 480
    sha256 = factory.Sequence(lambda n: hashlib.sha256(str(n).encode()).hexdigest())
    received_at = factory.LazyFunction(timezone.now)


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    capture = factory.SubFactory(CaptureFactory)
    analyzer_name = "local"
    analyzer_version = "1"
    labels = factory.LazyFunction(lambda: ["bright"])
    codes = factory.LazyFunction(lambda: [{"type": "QR", "value": "x"}])
