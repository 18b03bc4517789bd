"""Turning the environment into the STORAGES["default"] entry (settings use only)."""

from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

S3_BACKEND = "storages.backends.s3.S3Storage"
LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
_S3_QUERY_OPTIONS = (
    "endpoint_url",
    "region_name",
    "addressing_style",
    "signature_version",
)


def _s3_options(
    *, bucket: str, endpoint_url: str, region_name: str, location: str
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": location.strip("/"),
        # Objects stay private; pages link to authenticated routes.
        "default_acl": None,
        "querystring_auth": True,
        # A name already taken gets a new one instead of replacing the file.
        "file_overwrite": False,
        # An object opened for reading spills to a temporary file past this:
        # a worker reading a multi-GB video never holds it in memory.
        "max_memory_size": 16 * 1024 * 1024,
    }
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if region_name:
        options["region_name"] = region_name
    return options


def media_storage(
    *, url: str, bucket: str, endpoint_url: str, region_name: str, location: str
) -> dict[str, Any]:
    """The STORAGES entry for media: s3://bucket/prefix?..., AWS_STORAGE_BUCKET_NAME, or local files."""
    if url:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(
                f"MEDIA_STORAGE_URL must look like s3://bucket/prefix?endpoint_url=..., not {url!r}"
            )
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - set(_S3_QUERY_OPTIONS)
        if unknown:
            raise ValueError(
                f"MEDIA_STORAGE_URL: unknown option(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(_S3_QUERY_OPTIONS)}"
            )
        options = _s3_options(
            bucket=parts.netloc,
            endpoint_url=query.pop("endpoint_url", endpoint_url),
            region_name=query.pop("region_name", region_name),
            location=parts.path or location,
        )
        options.update(query)
        return {"BACKEND": S3_BACKEND, "OPTIONS": options}
    if bucket:
        return {
            "BACKEND": S3_BACKEND,
            "OPTIONS": _s3_options(
                bucket=bucket,
                endpoint_url=endpoint_url,
                region_name=region_name,
                location=location,
            ),
        }
    return {"BACKEND": LOCAL_BACKEND}
