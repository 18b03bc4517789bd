"""Similar photos of a session: perceptual hashes, groups, and the best of each group.

Two photos are similar when their 64-bit pHashes differ in at most
`max_distance` bits and, if both have a taken-at time, they were taken at
most `window_s` seconds apart. Groups are the connected sets of similar
photos (single linkage: a burst that drifts slowly stays one group). The
best of a group has the highest score; ties go to the earliest photo, and
photos without a score rank last.

Hashes are compared with numpy on uint64 arrays: each dated photo against
the later photos inside its time window, each undated photo against all
others. 1,000 photos group in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from collections.abc import Sequence
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image

MAX_DISTANCE = 10  # of 64 bits; unrelated scenes differ in about 32
WINDOW_S = 120.0


@dataclass(frozen=True)
class GroupingRecord:
    """What grouping needs of a photo: any key, its pHash (hex), time and score."""

    key: Hashable
    phash: str
    taken_at: dt.datetime | None = None
    score: float | None = None


@dataclass(frozen=True)
class SimilarGroup:
    """Keys of similar photos in time order, and the best one's key."""

    keys: list[Hashable]
    best_key: Hashable


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit DCT perceptual hash of an image, as 16 hex digits."""
    return str(imagehash.phash(image))


def hash_distance(first: str, second: str) -> int:
    """The number of bits in which two hex pHashes differ."""
    return (int(first, 16) ^ int(second, 16)).bit_count()


class _DisjointSets:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, first: int, second: int) -> None:
        first, second = self.find(first), self.find(second)
        if first != second:
            self.parent[max(first, second)] = min(first, second)


def _order_key(record: GroupingRecord) -> tuple:
    if record.taken_at is None:
        return (1, 0.0)
    return (0, record.taken_at.timestamp())


def group_similar(
    records: Sequence[GroupingRecord],
    *,
    max_distance: int = MAX_DISTANCE,
    window_s: float = WINDOW_S,
) -> list[SimilarGroup]:
    """Groups of two or more similar photos, in time order; single photos are left out."""
    ordered = sorted(records, key=_order_key)
    count = len(ordered)
    if count < 2:
        return []
    hashes = np.array([int(record.phash, 16) for record in ordered], dtype=np.uint64)
    dated = sum(1 for record in ordered if record.taken_at is not None)
    times = np.array([_order_key(record)[1] for record in ordered[:dated]])
    sets = _DisjointSets(count)

    for index in range(count):
        if index < dated:
            # Later dated photos inside the window, then every undated one.
            end = int(np.searchsorted(times, times[index] + window_s, side="right"))
            candidates = np.r_[index + 1 : end, dated:count]
        else:
            candidates = np.arange(index + 1, count)
        if candidates.size == 0:
            continue
        distances = np.bitwise_count(hashes[candidates] ^ hashes[index])
        for other in candidates[distances <= max_distance]:
            sets.union(index, int(other))

    members: dict[int, list[int]] = {}
    for index in range(count):
        members.setdefault(sets.find(index), []).append(index)
    groups = []
    for indexes in members.values():
        if len(indexes) < 2:
            continue
        best = max(indexes, key=lambda i: _best_rank(ordered[i], i))
        groups.append(
            SimilarGroup(
                keys=[ordered[i].key for i in indexes], best_key=ordered[best].key
            )
        )
    return groups


def _best_rank(record: GroupingRecord, position: int) -> tuple:
    has_score = record.score is not None
    return (has_score, record.score if has_score else 0.0, -position)
