"""Grouping a session's similar photos by pHash and time (no database)."""

import datetime as dt
import random
import time

import pytest

from photos import grouping
from photos.grouping import GroupingRecord
from photos.tests import images

START = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return START + dt.timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def hashes():
    astronaut = images.photograph("astronaut", size=256)
    coffee = images.photograph("coffee", size=256)
    return {
        "astronaut": grouping.perceptual_hash(astronaut),
        "astronaut-again": grouping.perceptual_hash(images.near_duplicate(astronaut)),
        "astronaut-later": grouping.perceptual_hash(
            images.near_duplicate(astronaut, 8)
        ),
        "coffee": grouping.perceptual_hash(coffee),
        "coffee-again": grouping.perceptual_hash(images.near_duplicate(coffee)),
    }


def test_near_duplicates_are_close_and_different_scenes_far(hashes):
    """A shifted, brighter, noisier copy stays within the threshold; another scene doesn't."""
    assert grouping.hash_distance(hashes["astronaut"], hashes["astronaut-again"]) <= 6
    assert grouping.hash_distance(hashes["astronaut"], hashes["coffee"]) > 20


def test_session_groups_by_scene_and_best_is_the_highest_score(hashes):
    """Two bursts become two groups; the single shot stays out; best = top score."""
    records = [
        GroupingRecord("a1", hashes["astronaut"], at(0), 3.9),
        GroupingRecord("a2", hashes["astronaut-again"], at(2), 4.6),
        GroupingRecord("a3", hashes["astronaut-later"], at(5), 4.1),
        GroupingRecord("c1", hashes["coffee"], at(60), 4.0),
        GroupingRecord("c2", hashes["coffee-again"], at(61), None),
        GroupingRecord("solo", "0f0f0f0f0f0f0f0f", at(3), 5.0),
    ]
    groups = grouping.group_similar(records)
    assert [(group.keys, group.best_key) for group in groups] == [
        (["a1", "a2", "a3"], "a2"),
        (["c1", "c2"], "c1"),
    ]


def test_same_scene_outside_the_time_window_is_not_grouped(hashes):
    """The same view an hour later is a new moment, not a duplicate."""
    records = [
        GroupingRecord("morning", hashes["astronaut"], at(0), 4.0),
        GroupingRecord("noon", hashes["astronaut-again"], at(3600), 4.0),
    ]
    assert grouping.group_similar(records, window_s=120) == []


def test_undated_photos_group_by_hash_alone(hashes):
    """Without taken-at times, only the hash decides."""
    records = [
        GroupingRecord("x", hashes["coffee"]),
        GroupingRecord("y", hashes["coffee-again"], at(0)),
        GroupingRecord("z", hashes["astronaut"]),
    ]
    groups = grouping.group_similar(records)
    assert [sorted(group.keys) for group in groups] == [["x", "y"]]


def test_score_ties_go_to_the_earliest_photo(hashes):
    """Equal scores: the first frame of the burst is the best."""
    records = [
        GroupingRecord("second", hashes["astronaut-again"], at(1), 4.0),
        GroupingRecord("first", hashes["astronaut"], at(0), 4.0),
    ]
    assert grouping.group_similar(records)[0].best_key == "first"


def test_thousand_photos_group_well_within_two_seconds():
    """1,000 records (bursts of 5, 3 s apart) group fast and correctly."""
    rng = random.Random(4)
    records = []
    for index in range(1000):
        if index % 5 == 0:
            phash = rng.getrandbits(64)
        else:
            phash ^= 1 << rng.randrange(64)
        records.append(
            GroupingRecord(index, f"{phash:016x}", at(index * 3), rng.random() * 4 + 1)
        )
    started = time.perf_counter()
    groups = grouping.group_similar(records)
    assert time.perf_counter() - started < 2
    assert len(groups) == 200
    assert all(len(group.keys) == 5 for group in groups)
