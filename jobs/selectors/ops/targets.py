"""A job's target, found generically: its owner, its files, what its preview shows, and the
files (and bytes) deleting it would free."""

import logging
import mimetypes
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.admin.utils import NestedObjects
from django.contrib.contenttypes.models import ContentType
from django.db import models

from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)


@cache
def target_owner_path(model: type[models.Model]) -> str | None:
    """The lookup from a target model to its owning user: "owner", "device__owner", …

    A model may name it (`ops_owner_field = "session__owner"`); otherwise a
    foreign key `owner` to the user model, or one hop through a foreign key
    whose model has one (a capture's device, a document's collection).
    """
    declared = getattr(model, "ops_owner_field", None)
    if declared:
        return declared
    user_model = apps.get_model(settings.AUTH_USER_MODEL)

    def owner_field(candidate: type[models.Model]) -> bool:
        try:
            field = candidate._meta.get_field("owner")
        except Exception:
            return False
        return getattr(field, "related_model", None) is user_model

    if owner_field(model):
        return "owner"
    for field in model._meta.get_fields():
        if (
            field.many_to_one
            and field.concrete
            and field.related_model is not None
            and owner_field(field.related_model)
        ):
            return f"{field.name}__owner"
    return None


def target_model_of(content_type_id: int | None) -> type[models.Model] | None:
    if not content_type_id:
        return None
    return ContentType.objects.get_for_id(content_type_id).model_class()


def target_pks(model: type[models.Model], object_ids: Iterable[str]) -> list[Any]:
    """Object ids (text, as jobs keep them) as the model's primary keys; malformed ones dropped."""
    pk_field = model._meta.pk
    pks = []
    for object_id in set(object_ids):
        try:
            pks.append(pk_field.to_python(object_id))
        except Exception:
            continue
    return pks


def target_owner_ids(
    *, model: type[models.Model], object_ids: Iterable[str]
) -> dict[str, int | None]:
    """The owning user's id of each target (by its object id); {} for a model without owners."""
    path = target_owner_path(model)
    if path is None:
        return {}
    pks = target_pks(model, object_ids)
    owners: dict[str, int | None] = {}
    for start in range(0, len(pks), 1000):
        rows = model._default_manager.filter(pk__in=pks[start : start + 1000])
        for pk, owner_id in rows.values_list("pk", path):
            owners[str(pk)] = owner_id
    return owners


def target_get(*, job: ProcessingJob) -> models.Model | None:
    """The job's target row, or None (no target, or deleted)."""
    model = target_model_of(job.content_type_id)
    if model is None:
        return None
    try:
        return model._default_manager.filter(pk=job.object_id).first()
    except (ValueError, TypeError):
        return None


IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime", "video/x-m4v")
# Fields tried first, in this order, when a target shows its files.
PREVIEW_FIELD_ORDER = ("thumbnail", "poster", "preview", "image", "original", "file")
RELATED_PREVIEW_ROWS = 3


def file_kind(name: str) -> str:
    """ "image", "video", "pdf" or "file", from the file's name."""
    content_type, _ = mimetypes.guess_type(name)
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type in VIDEO_TYPES:
        return "video"
    if content_type == "application/pdf":
        return "pdf"
    return "file"


def _file_fields(model: type[models.Model]) -> list[models.FileField]:
    fields = [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]
    order = {name: index for index, name in enumerate(PREVIEW_FIELD_ORDER)}
    return sorted(fields, key=lambda field: order.get(field.name, len(order)))


def target_files(*, target: models.Model) -> list[dict[str, Any]]:
    """The files a target shows: its own file fields, then those of rows pointing at it.

    Each item: `key` (stable, for the admin's file view), `label`, `name`
    (the storage name), `kind`, and `file` (the FieldFile).
    """
    files = []
    for field in _file_fields(type(target)):
        value = getattr(target, field.name)
        if value:
            files.append(
                {
                    "key": field.name,
                    "label": field.verbose_name,
                    "name": value.name,
                    "kind": file_kind(value.name),
                    "file": value,
                }
            )
    for relation in type(target)._meta.related_objects:
        if not relation.one_to_many or relation.related_model is ProcessingJob:
            continue
        related_fields = _file_fields(relation.related_model)
        if not related_fields:
            continue
        accessor = relation.get_accessor_name()
        rows = getattr(target, accessor).all().order_by("pk")[:RELATED_PREVIEW_ROWS]
        for row in rows:
            for field in related_fields:
                value = getattr(row, field.name)
                if value:
                    files.append(
                        {
                            "key": f"{accessor}:{row.pk}:{field.name}",
                            "label": f"{relation.related_model._meta.verbose_name} "
                            f"{row} · {field.verbose_name}",
                            "name": value.name,
                            "kind": file_kind(value.name),
                            "file": value,
                        }
                    )
    return files


def target_preview_list(*, target: models.Model) -> list[dict[str, Any]]:
    """What the job page shows of its target: the model's own `get_preview_media()`, else its files.

    `get_preview_media()` (a convention for media apps) returns dicts with
    `kind` ("image", "video", "pdf", "link"), `url` (an authenticated route
    of the app), and optionally `label`, `poster`, `boxes` ([x, y, w, h,
    label] in an image of `width` x `height`). Without it, image and video
    files of the target (and of rows pointing at it, e.g. renditions) are
    shown through the admin's file view; a `url` is then filled by the view.
    """
    declared = getattr(target, "get_preview_media", None)
    if callable(declared):
        try:
            return list(declared() or [])
        except Exception:
            logger.exception("get_preview_media failed for %r", target)
            return []
    previews = []
    images = [item for item in target_files(target=target) if item["kind"] == "image"]
    for item in target_files(target=target):
        if item["kind"] in ("image", "video", "pdf"):
            entry = {
                "kind": item["kind"],
                "key": item["key"],
                "label": item["label"],
                "name": item["name"],
            }
            if item["kind"] == "video" and images:
                entry["poster_key"] = images[0]["key"]
            previews.append(entry)
    return previews


def files_to_free(*, targets: list[models.Model]) -> dict[str, Any]:
    """The files deleting these targets (and the rows that go with them) would remove, with sizes.

    Sizes come from each file's storage; a file whose size the storage
    cannot tell (missing, or a remote error) is counted as unknown.
    """
    if not targets:
        return {"files": [], "count": 0, "bytes": 0, "unknown": 0, "rows": {}}
    collector = NestedObjects(using="default")
    collector.collect(targets)
    files, total_bytes, unknown, rows = [], 0, 0, {}
    for model, instances in collector.data.items():
        rows[model._meta.label] = len(instances)
        fields = _file_fields(model)
        if not fields:
            continue
        for instance in instances:
            for field in fields:
                value = getattr(instance, field.name)
                if not value:
                    continue
                try:
                    size = value.storage.size(value.name)
                except Exception:
                    size = None
                if size is None:
                    unknown += 1
                else:
                    total_bytes += size
                files.append(
                    {
                        "model": model._meta.label,
                        "field": field.name,
                        "name": value.name,
                        "bytes": size,
                    }
                )
    return {
        "files": files,
        "count": len(files),
        "bytes": total_bytes,
        "unknown": unknown,
        "rows": rows,
    }
