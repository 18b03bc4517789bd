"""Optional semantic vectors from an OpenAI-compatible `/embeddings` endpoint.

Plain HTTP (urllib) and numpy, no Django. The endpoint is the operator's
configuration, not a user's input, so it may live on a private network and
is called directly. Every failure is an EmbeddingsError: search and
processing go on without vectors.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

# Long chunks are cut: endpoints refuse inputs over their token limit, and
# the start of a 1000-character chunk carries its topic.
MAX_INPUT_CHARS = 4000


class EmbeddingsError(Exception):
    """The endpoint could not be reached or gave no usable vectors."""


def embed(
    texts: Sequence[str],
    *,
    base_url: str,
    api_key: str,
    model: str,
    timeout_s: float,
) -> list[np.ndarray]:
    """One unit-length float32 vector per text, in order, from {base_url}/embeddings."""
    if not texts:
        return []
    payload = {"model": model, "input": [text[:MAX_INPUT_CHARS] for text in texts]}
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(
        base_url.rstrip("/") + "/embeddings",
        data=json.dumps(payload).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            body = json.loads(response.read())
        rows = sorted(body["data"], key=lambda row: row.get("index", 0))
        vectors = [np.asarray(row["embedding"], dtype=np.float32) for row in rows]
    except urllib.error.HTTPError as exc:
        raise EmbeddingsError(
            f"the embeddings endpoint answered HTTP {exc.code}"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise EmbeddingsError(f"the embeddings endpoint is unreachable: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise EmbeddingsError(f"the embeddings answer is malformed: {exc}") from exc
    if len(vectors) != len(texts) or any(
        vector.ndim != 1 or not vector.size for vector in vectors
    ):
        raise EmbeddingsError("the embeddings answer has the wrong number of vectors")
    if len({vector.size for vector in vectors}) != 1:
        raise EmbeddingsError("the embeddings answer mixes vector sizes")
    return [_unit(vector) for vector in vectors]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored: little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def cosine_scores(
    query: np.ndarray, stored: Sequence[bytes | memoryview]
) -> np.ndarray:
    """Cosine similarity of a unit query vector with stored unit vectors (0 when sizes differ)."""
    scores = np.zeros(len(stored), dtype=np.float32)
    for index, data in enumerate(stored):
        vector = from_bytes(data)
        if vector.size == query.size:
            scores[index] = float(vector @ query)
    return scores
