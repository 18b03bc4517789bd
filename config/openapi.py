"""The OpenAPI schema tells the whole truth: every operation's error answers,
in the project's one error shape, are documented (drf-spectacular hook)."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error a client sees: a machine code and what is wrong.",
    "properties": {
        "error": {"type": "string", "example": "invalid"},
        "detail": {
            "description": "A message, or per-field messages for invalid input.",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": True},
                {"type": "array", "items": {}},
            ],
        },
    },
    "required": ["error", "detail"],
    "additionalProperties": True,
}
_DESCRIPTIONS = {
    "400": "Invalid input (names the field or parameter), malformed or hostile body.",
    "401": "Not authenticated.",
    "403": "Authenticated but not allowed (e.g. staff only).",
    "404": "No such object, or not yours.",
    "409": "The object's state forbids this (e.g. retrying a completed job).",
    "413": "The body or file is too large.",
    "412": "tus: the Tus-Resumable version is not 1.0.0.",
    "415": "The content type or file type is not accepted.",
    "429": "Rate limited: retry after the Retry-After header's seconds.",
}


def _error_codes(path: str, method: str, operation: dict) -> list[str]:
    # 404 everywhere: an unknown id in the path, the body or a filter, or a
    # page past the end of a list.
    codes = ["400", "404", "429"]
    security = operation.get("security")
    if security is None or any(security):  # some credentials are asked for
        codes += ["401", "403"]
    if method in ("post", "put", "patch", "delete"):
        codes += ["409", "413", "415"]
    headers = {
        parameter.get("name", "").lower()
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "header"
    }
    if "tus-resumable" in headers:
        codes.append("412")  # tus: a protocol version this server does not speak
    return codes


def add_error_responses(result, generator, request, public):
    """Document the error answers each operation can give, with the error shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = (
        ERROR_SCHEMA
    )
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _error_codes(path, method, operation):
                responses.setdefault(
                    code,
                    {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
