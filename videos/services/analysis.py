"""The analysis timeline of a video: scene cuts, and what sampled frames show."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from captures import services as captures_services
from jobs.files import local_copy
from videos import isolated
from videos.errors import VideoError
from videos.frames import SceneCut
from videos.models import Video
from videos.services.common import decoder_options
from videos.services.common import permanent
from videos.services.common import video_limits

logger = logging.getLogger("videos")

Progress = Callable[[float, float, str], None]
ANALYZER = "captures.image_analyze"
TEXT_SAMPLES_MAX = 20


def analysis_interval_s(duration_s: float | None) -> float:
    """Seconds between sampled frames: VIDEOS_ANALYZE_EVERY_S, wider for long videos."""
    every_s = settings.VIDEOS_ANALYZE_EVERY_S
    if duration_s:
        every_s = max(every_s, duration_s / settings.VIDEOS_ANALYZE_MAX_SAMPLES)
    return round(every_s, 3)


def video_analyze(
    *, video_id: str, progress: Progress | None = None, timeout_s: float = 3600
) -> dict[str, Any]:
    """Build the video's timeline: scene cuts, and people, faces, codes and text per sampled frame.

    One decoding pass in the decoder sandbox yields the cuts and the frames;
    each frame goes through the captures analyser here. Idempotent: the
    timeline is replaced as a whole. Progress is frames decoded of frames
    expected.
    """
    video = Video.objects.get(pk=video_id)
    every_s = analysis_interval_s(video.duration_s)
    use_ocr = settings.VIDEOS_ANALYZE_OCR
    cuts: list[dict] = []
    samples: list[dict] = []
    previous: bytes | None = None

    def report(done: int, expected: int) -> None:
        if progress is not None:
            progress(done, expected, f"analysing: frame {done} of {expected}")

    try:
        with (
            local_copy(video.original.name) as path,
            isolated.scan(
                path,
                every_s=every_s,
                on_progress=report,
                limits=video_limits(),
                timeout_s=timeout_s,
                memory_bytes=decoder_options()["memory_bytes"],
            ) as events,
        ):
            for event in events:
                if isinstance(event, SceneCut):
                    cuts.append({"at_s": event.at_s, "score": event.score})
                    continue
                seen = captures_services.image_analyze(
                    image=event.jpeg, previous=previous, ocr=use_ocr
                )
                samples.append(_entry(event.at_s, seen))
                previous = event.jpeg
    except VideoError as error:
        raise permanent(error) from error
    timeline = {
        "analyzer": ANALYZER,
        "every_s": every_s,
        "ocr": use_ocr,
        "scene_cuts": cuts,
        "frames": samples,
        "summary": _summary(samples, cuts),
    }
    Video.objects.filter(pk=video_id).update(
        timeline=timeline, analyzed_at=timezone.now(), analysis_error=""
    )
    logger.info(
        "video_analyzed video_id=%s frames=%s cuts=%s",
        video_id,
        len(samples),
        len(cuts),
    )
    return {
        "video_id": str(video.id),
        "frames": len(samples),
        "scene_cuts": len(cuts),
        "summary": timeline["summary"],
    }


def video_analysis_mark_failed(*, video_id: str, error: str) -> None:
    """The analysis job failed for good: record why."""
    Video.objects.filter(pk=video_id).update(analysis_error=error[:2000])


def _entry(at_s: float, seen: dict[str, Any]) -> dict[str, Any]:
    return {
        "at_s": round(at_s, 3),
        "people_count": len(seen["people"]),
        "faces_count": len(seen["faces"]),
        "codes": [
            {"type": code.get("type"), "value": code.get("value")}
            for code in seen["codes"]
        ],
        "text": seen["text"],
        "labels": seen["labels"],
        "brightness": seen["brightness"],
        "sharpness": seen["sharpness"],
        "motion": seen["motion"],
    }


def _summary(samples: list[dict], cuts: list[dict]) -> dict[str, Any]:
    codes: dict[str, dict] = {}
    texts: list[str] = []
    labels: Counter[str] = Counter()
    for sample in samples:
        for code in sample["codes"]:
            codes.setdefault(code["value"], {**code, "first_at_s": sample["at_s"]})
        text = sample["text"].strip()
        if text and text not in texts and len(texts) < TEXT_SAMPLES_MAX:
            texts.append(text)
        labels.update(sample["labels"])
    return {
        "frames": len(samples),
        "scene_cuts": len(cuts),
        "people_max": max((s["people_count"] for s in samples), default=0),
        "faces_max": max((s["faces_count"] for s in samples), default=0),
        "frames_with_people": sum(1 for s in samples if s["people_count"]),
        "frames_with_faces": sum(1 for s in samples if s["faces_count"]),
        "codes": list(codes.values()),
        "text": texts,
        "labels": dict(labels.most_common()),
    }
