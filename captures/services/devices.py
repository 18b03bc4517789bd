"""Devices: creation, API keys (shown once, stored as SHA-256), authentication."""

import functools
import hashlib
import hmac
import secrets
from typing import Any

from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from captures import selectors
from captures.errors import DeviceAuthenticationFailed
from captures.errors import DeviceInactive
from captures.models import Device
from jobs import hot_statements

API_KEY_PREFIX = "mqd_"
MAX_KEY_LENGTH = 256
_DUMMY_HASH = hashlib.sha256(b"no such device").hexdigest()


def _new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def _hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _set_new_key(device: Device) -> str:
    api_key = _new_api_key()
    device.api_key_hash = _hash_key(api_key)
    device.api_key_prefix = api_key[:12]
    device.api_key_rotated_at = timezone.now()
    return api_key


@transaction.atomic
def device_create(
    *,
    device_id: str,
    name: str,
    location: str = "",
    owner: Any = None,
    is_active: bool = True,
    retention_days: int | None = None,
) -> tuple[Device, str]:
    """Create a device and its API key; returns (device, key). The key is not kept."""
    device = Device(
        device_id=device_id,
        name=name,
        location=location or "",
        owner=owner,
        is_active=is_active,
        retention_days=retention_days,
    )
    api_key = _set_new_key(device)
    device.full_clean()
    device.save()
    return device, api_key


@transaction.atomic
def device_rotate_key(*, device: Device) -> str:
    """Replace the device's API key; the old one stops working at once. Returns the new key."""
    locked = Device.objects.select_for_update().get(pk=device.pk)
    api_key = _set_new_key(locked)
    locked.save(update_fields=["api_key_hash", "api_key_prefix", "api_key_rotated_at"])
    device.api_key_hash = locked.api_key_hash
    device.api_key_prefix = locked.api_key_prefix
    device.api_key_rotated_at = locked.api_key_rotated_at
    return api_key


def device_update(*, device: Device, **fields: Any) -> Device:
    """Change a device's editable fields (name, location, owner, is_active, retention_days)."""
    allowed = {"name", "location", "owner", "is_active", "retention_days"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(device, name, value)
    device.full_clean()
    device.save(update_fields=[*fields])
    return device


def device_for_key(*, api_key: str | None) -> Device:
    """The active device this key belongs to: one indexed lookup, nothing else read.

    Lets ingest refuse an unknown key before it reads or parses the body.
    Raises DeviceAuthenticationFailed (401) for a missing or unknown key and
    DeviceInactive (403) for a disabled device.
    """
    if not api_key:
        raise DeviceAuthenticationFailed(
            "missing X-Device-Key header", code="missing_device_key"
        )
    if "\x00" in api_key or len(api_key) > MAX_KEY_LENGTH:
        raise DeviceAuthenticationFailed("unknown device_id or wrong X-Device-Key")
    device = selectors.device_by_key_hash(api_key_hash=_hash_key(api_key))
    if device is None:
        raise DeviceAuthenticationFailed("unknown device_id or wrong X-Device-Key")
    if not device.is_active:
        raise DeviceInactive(f"device {device.device_id} is disabled")
    return device


def device_authenticate(*, device_id: str, api_key: str | None) -> Device:
    """The active device that key belongs to.

    Raises DeviceAuthenticationFailed (401) for a missing key, an unknown
    device or a wrong key, and DeviceInactive (403) for a disabled device.
    """
    if not api_key:
        raise DeviceAuthenticationFailed(
            "missing X-Device-Key header", code="missing_device_key"
        )
    device = Device.objects.filter(device_id=device_id).first()
    # Compare against a dummy hash for unknown devices too, so timing does
    # not tell which device ids exist.
    expected = device.api_key_hash if device is not None else _DUMMY_HASH
    key_matches = hmac.compare_digest(_hash_key(api_key), expected)
    if device is None or not key_matches:
        raise DeviceAuthenticationFailed("unknown device_id or wrong X-Device-Key")
    if not device.is_active:
        raise DeviceInactive(f"device {device_id} is disabled")
    return device


@functools.cache
def _device_touch_sql() -> str:
    quote = hot_statements.connection().ops.quote_name
    return (
        f"UPDATE {quote(Device._meta.db_table)} "
        "SET last_seen_at = statement_timestamp() WHERE id = %(id)s"
    )


def device_lock_for_ingest(*, device: Device) -> None:
    """Note the device as seen now, locking its row until the caller's transaction ends.

    One ingest per device at a time: a second waits here until the first
    commits, so its duplicate check sees the first's capture.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("device_lock_for_ingest needs the caller's transaction")
    db = hot_statements.connection()
    if hot_statements.prepares(db):
        hot_statements.run(_device_touch_sql(), {"id": device.pk}, fetch=False)
    else:
        Device.objects.filter(pk=device.pk).update(last_seen_at=Now())
