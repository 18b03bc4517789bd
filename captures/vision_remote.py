"""An optional remote analyser: labels from an OpenAI-compatible vision endpoint.

Plain HTTP (urllib) and JSON, no Django: the capture services pass the
endpoint settings in and treat every failure as "no remote labels".
"""

import base64
import json
import re
import urllib.error
import urllib.request

PROMPT = (
    "List the main objects, people, animals and scene types visible in this "
    "camera image as a JSON array of short lowercase labels, e.g. "
    '["person", "car", "parking lot"]. Reply with the JSON array only.'
)
MAX_LABELS = 20
MAX_LABEL_LENGTH = 64


class VisionError(Exception):
    """The remote analyser could not be reached or gave no usable answer."""


def labels_for_image(
    image: bytes,
    *,
    content_type: str,
    base_url: str,
    api_key: str,
    model: str,
    timeout_s: float,
) -> list[str]:
    """POST the image to {base_url}/chat/completions and return the labels of its reply."""
    data_url = f"data:{content_type};base64," + base64.b64encode(image).decode("ascii")
    payload = {
        "model": model,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": PROMPT},
                    {"type": "image_url", "image_url": {"url": data_url}},
                ],
            }
        ],
        "max_tokens": 200,
        "temperature": 0,
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(
        base_url.rstrip("/") + "/chat/completions",
        data=json.dumps(payload).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            body = json.loads(response.read())
        content = body["choices"][0]["message"]["content"]
    except urllib.error.HTTPError as exc:
        raise VisionError(f"the vision endpoint answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise VisionError(f"the vision endpoint is unreachable: {exc}") from exc
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise VisionError(
            f"the vision endpoint's answer has no message: {exc}"
        ) from exc
    if isinstance(content, list):  # content parts
        content = " ".join(
            part.get("text", "") for part in content if isinstance(part, dict)
        )
    if not isinstance(content, str):
        raise VisionError("the vision endpoint's message is not text")
    return parse_labels(content)


def parse_labels(content: str) -> list[str]:
    """Labels from a reply: a JSON array, {"labels": [...]}, or a comma/line list."""
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", content.strip())
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parsed = parsed.get("labels")
    if isinstance(parsed, list):
        candidates = [
            str(item) for item in parsed if isinstance(item, str | int | float)
        ]
    else:
        candidates = re.split(r"[,;\n]", text)
    labels: list[str] = []
    for candidate in candidates:
        label = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", candidate)
        label = label.strip().strip("\"'.").strip().lower()
        if label and len(label) <= MAX_LABEL_LENGTH and label not in labels:
            labels.append(label)
    return labels[:MAX_LABELS]
