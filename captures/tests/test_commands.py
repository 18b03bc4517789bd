"""manage.py captures_create_device and captures_process_pending."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from captures import services
from captures.models import Capture
from captures.models import Device
from captures.tests import images
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db


def test_create_device_prints_its_key_once(user, ingest):
    """The command creates the device and prints a working key."""
    out = StringIO()
    call_command(
        "captures_create_device",
        "esp32-cli",
        "--name",
        "CLI cam",
        "--owner",
        "alice",
        stdout=out,
    )
    text = out.getvalue()
    key = next(
        line.split()[-1] for line in text.splitlines() if line.startswith("api_key:")
    )
    device = Device.objects.get(device_id="esp32-cli")
    assert device.owner == user and device.name == "CLI cam"
    assert (
        ingest.json(
            device_id="esp32-cli", key=key, image=images.numbered(1)
        ).status_code
        == 201
    )


def test_create_device_key_only_and_errors():
    """--key-only prints just the key; a duplicate id or unknown owner is an error."""
    out = StringIO()
    call_command("captures_create_device", "esp32-k", "--key-only", stdout=out)
    assert out.getvalue().strip().startswith("mqd_")
    with pytest.raises(CommandError, match="already exists"):
        call_command("captures_create_device", "esp32-k", stdout=StringIO())
    with pytest.raises(CommandError, match="no user"):
        call_command(
            "captures_create_device", "esp32-z", "--owner", "nobody", stdout=StringIO()
        )


def test_process_pending_queues_or_analyses_inline(make_device, settings):
    """The command queues jobs for pending captures, or analyses them with --inline."""
    settings.CAPTURES_AUTO_PROCESS = False
    settings.CAPTURES_OCR_ENABLED = False
    device, _ = make_device("esp32-001")
    for number in range(2):
        services.capture_ingest(device=device, image=images.numbered(number))
    out = StringIO()
    call_command("captures_process_pending", stdout=out)
    assert "2 capture(s) queued" in out.getvalue()
    assert ProcessingJob.objects.filter(job_type="captures.analyze").count() == 2

    services.capture_ingest(device=device, image=images.numbered(5))
    out = StringIO()
    call_command("captures_process_pending", "--inline", stdout=out)
    assert "1 capture(s) analysed, 0 failed" in out.getvalue()
    assert Capture.objects.filter(status="completed").count() == 1
