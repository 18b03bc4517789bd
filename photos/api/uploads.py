"""The answer to a multi-file upload: each file's outcome, and one status for the request."""

from typing import Any

from photos.api.serializers import PhotoSerializer
from photos.services import FileOutcome

MULTI_STATUS = 207


def _file_entry(outcome: FileOutcome, context: dict) -> dict[str, Any]:
    if outcome.error is not None:
        return {
            "name": outcome.name,
            "status": outcome.status,
            **outcome.error.as_dict(),
        }
    result = outcome.result
    return {
        "name": outcome.name,
        "status": outcome.status,
        "duplicate": not result.created,
        "photo": PhotoSerializer(result.photo, context=context).data,
    }


def upload_answer(outcomes: list[FileOutcome], *, context: dict) -> tuple[dict, int]:
    """The body and status: 201 (stored), 200 (all stored before), 207 (some refused),
    or, when none was stored, the files' common 4xx (400 when they differ)."""
    files = [_file_entry(outcome, context) for outcome in outcomes]
    refused = [outcome for outcome in outcomes if outcome.error is not None]
    stored = [outcome for outcome in outcomes if outcome.result is not None]
    body: dict[str, Any] = {
        "files": files,
        "stored": sum(1 for outcome in stored if outcome.result.created),
        "duplicates": sum(1 for outcome in stored if not outcome.result.created),
        "refused": len(refused),
    }
    if not refused:
        return body, 201 if body["stored"] else 200
    if stored:
        return body, MULTI_STATUS
    statuses = {outcome.status for outcome in refused}
    codes = {outcome.error.code for outcome in refused}
    reasons = "; ".join(
        f"{o.name or 'unnamed file'}: {o.error.detail}" for o in refused
    )
    error = {
        "error": codes.pop() if len(codes) == 1 else "photos_refused",
        "detail": f"no photo was stored: {reasons}",
    }
    return {**error, **body}, statuses.pop() if len(statuses) == 1 else 400
