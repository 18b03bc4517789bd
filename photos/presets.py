"""Preset data: the adjustments with their ranges, the rules that pick a preset, the pick.

Kept apart from `photos.develop` (which applies adjustments) because the
preset API validates with the same tables and never renders anything.

A preset's rules are a list of dicts; the preset applies when any rule
matches. A rule may hold:

    labels_all   labels that must all be present
    labels_any   at least one of these must be present
    labels_none  none of these may be present
    min_score    the overall score must be >= this (1.0-5.0)
    max_score    the overall score must be < this
    weight       an integer rank, higher wins (default 0)

A rule without conditions matches every photo (a fallback preset). When
several presets match, the highest weight wins, then the more specific
rule (one condition per label in labels_all and labels_none, one for
labels_any, one per score bound), then the preset listed first.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from photos.errors import InvalidSettings

CONTEXT_LABELS = (
    "portrait",
    "group",
    "night",
    "backlit",
    "indoor",
    "landscape",
    "monochrome",
)


@dataclass(frozen=True)
class Adjustment:
    """One adjustment: its range, its neutral value and the XMP (crs:) tag it maps to."""

    name: str
    minimum: float
    maximum: float
    xmp_tag: str
    unit: str = ""
    neutral: float = 0.0
    decimals: int = 0


ADJUSTMENTS: dict[str, Adjustment] = {
    adjustment.name: adjustment
    for adjustment in (
        Adjustment("exposure", -5.0, 5.0, "Exposure2012", unit="EV", decimals=2),
        Adjustment("contrast", -100, 100, "Contrast2012"),
        Adjustment("highlights", -100, 100, "Highlights2012"),
        Adjustment("shadows", -100, 100, "Shadows2012"),
        Adjustment("saturation", -100, 100, "Saturation"),
        Adjustment("vibrance", -100, 100, "Vibrance"),
        # Relative shifts, as Lightroom's sliders for rendered files; RAW
        # sidecars convert them to Kelvin (see photos.develop.xmp_sidecar).
        Adjustment("temperature", -100, 100, "IncrementalTemperature"),
        Adjustment("tint", -100, 100, "IncrementalTint"),
        Adjustment("sharpening", 0, 150, "Sharpness"),
        Adjustment("vignette", -100, 100, "PostCropVignetteAmount"),
    )
}

_RULE_LABEL_KEYS = ("labels_all", "labels_any", "labels_none")
_RULE_SCORE_KEYS = ("min_score", "max_score")
RULE_KEYS = (*_RULE_LABEL_KEYS, *_RULE_SCORE_KEYS, "weight")


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def validate_adjustments(values: Mapping[str, Any]) -> dict[str, float]:
    """The adjustments as floats; InvalidSettings lists every unknown name or bad value."""
    if not isinstance(values, Mapping):
        raise InvalidSettings(
            "adjustments must be an object", problems=["not an object"]
        )
    problems = []
    cleaned = {}
    for name, value in values.items():
        adjustment = ADJUSTMENTS.get(name)
        if adjustment is None:
            problems.append(f"{name}: unknown adjustment")
        elif not _is_number(value):
            problems.append(f"{name}: must be a number")
        elif not adjustment.minimum <= value <= adjustment.maximum:
            problems.append(
                f"{name}: {value} is outside {adjustment.minimum:g}..{adjustment.maximum:g}"
            )
        else:
            cleaned[name] = float(value)
    if problems:
        raise InvalidSettings(
            "invalid adjustments: " + "; ".join(problems), problems=problems
        )
    return cleaned


def _rule_problems(index: int, rule: Any) -> list[str]:
    where = f"rule {index}"
    if not isinstance(rule, Mapping):
        return [f"{where}: must be an object"]
    problems = [f"{where}: unknown key {key!r}" for key in rule if key not in RULE_KEYS]
    for key in _RULE_LABEL_KEYS:
        labels = rule.get(key, [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            problems.append(f"{where}: {key} must be a list of labels")
            continue
        unknown = sorted(set(labels) - set(CONTEXT_LABELS))
        if unknown:
            problems.append(f"{where}: unknown labels {unknown} in {key}")
    for key in _RULE_SCORE_KEYS:
        if key in rule and not (_is_number(rule[key]) and 1.0 <= rule[key] <= 5.0):
            problems.append(f"{where}: {key} must be a number from 1.0 to 5.0")
    weight = rule.get("weight", 0)
    if not isinstance(weight, int) or isinstance(weight, bool):
        problems.append(f"{where}: weight must be an integer")
    return problems


def validate_rules(rules: Any) -> list[dict]:
    """The rules as plain dicts; InvalidSettings lists every problem found."""
    if not isinstance(rules, list):
        raise InvalidSettings("rules must be a list", problems=["not a list"])
    problems = [
        problem for i, rule in enumerate(rules) for problem in _rule_problems(i, rule)
    ]
    if problems:
        raise InvalidSettings(
            "invalid rules: " + "; ".join(problems), problems=problems
        )
    return [dict(rule) for rule in rules]


@dataclass(frozen=True)
class PresetChoice:
    """A preset as selection sees it: any key (an id, a name) and its rules."""

    key: Hashable
    rules: Sequence[Mapping[str, Any]]


def rule_matches(
    rule: Mapping[str, Any], labels: set[str], score: float | None
) -> bool:
    """True if the photo's labels and score meet every condition of the rule."""
    if not set(rule.get("labels_all", [])) <= labels:
        return False
    if rule.get("labels_any") and not set(rule["labels_any"]) & labels:
        return False
    if set(rule.get("labels_none", [])) & labels:
        return False
    if "min_score" in rule and (score is None or score < rule["min_score"]):
        return False
    return not ("max_score" in rule and (score is None or score >= rule["max_score"]))


def _specificity(rule: Mapping[str, Any]) -> int:
    return (
        len(rule.get("labels_all", []))
        + len(rule.get("labels_none", []))
        + (1 if rule.get("labels_any") else 0)
        + sum(1 for key in _RULE_SCORE_KEYS if key in rule)
    )


def select_preset(
    presets: Sequence[PresetChoice], *, labels: Iterable[str], score: float | None
) -> Hashable | None:
    """The key of the preset whose matching rule ranks highest, or None if none match."""
    labels = set(labels)
    best_rank = None
    best_key = None
    for order, preset in enumerate(presets):
        for rule in preset.rules:
            if not rule_matches(rule, labels, score):
                continue
            rank = (rule.get("weight", 0), _specificity(rule), -order)
            if best_rank is None or rank > best_rank:
                best_rank, best_key = rank, preset.key
    return best_key
