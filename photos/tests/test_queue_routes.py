"""The original bridge's /queue/ routes: shapes, owner scoping, staff-only operations."""

import uuid

import pytest

from jobs import services as job_services
from jobs.models import ProcessingJob
from jobs.models import QueueState
from photos import services
from photos.tests.factories import PhotoFactory
from photos.tests.factories import PhotoSessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]

TASK_STATE_KEYS = {
    "task_id",
    "job_id",
    "state",
    "status",
    "current",
    "total",
    "progress",
    "result",
    "error",
    "ready",
    "successful",
    "photo_id",
}


def failed_job(user):
    """A photos job failed through the engine: its photo has no file."""
    return job_services.job_run_now(
        job_type="photos.analyze", target=PhotoFactory(owner=user), submitted_by=user
    )


# SUBMISSION ---------------------------------------------------------------


def test_submit_answers_the_task_with_the_original_s_priority(user_client, user):
    photo = PhotoFactory(owner=user, score=3.7)

    answer = user_client.post(
        "/queue/submit",
        {
            "photo_id": photo.pk,
            "user_requested": False,
            "config": {"apply_preset": True},
        },
        format="json",
    )

    assert answer.status_code == 202
    body = answer.json()
    assert set(body) == {
        "task_id",
        "job_id",
        "state",
        "queue",
        "priority",
        "photo_id",
        "created",
    }
    assert (body["state"], body["queue"], body["priority"]) == ("PENDING", "medium", 5)
    assert body["photo_id"] == photo.pk
    job = ProcessingJob.objects.get(id=body["job_id"])
    assert job.params == {"apply_preset": True}


def test_submit_user_requested_is_priority_9(user_client, user):
    photo = PhotoFactory(owner=user, score=1.2)

    answer = user_client.post(
        "/queue/submit/", {"photo_id": photo.pk, "user_requested": True}, format="json"
    )

    assert answer.json()["priority"] == 9


@pytest.mark.parametrize(
    "body",
    [{}, {"photo_id": "x"}, {"photo_id": 1, "config": {"unknown": 1}}],
    ids=["missing", "not-an-id", "bad-config"],
)
def test_submit_with_a_bad_body_is_400(user_client, user, body):
    if body.get("photo_id") == 1:
        body["photo_id"] = PhotoFactory(owner=user).pk

    assert user_client.post("/queue/submit", body, format="json").status_code == 400


def test_submit_of_an_unknown_or_foreign_photo_is_404(user_client, other_user):
    theirs = PhotoFactory(owner=other_user)

    for photo_id in (theirs.pk, 999_999):
        answer = user_client.post(
            "/queue/submit", {"photo_id": photo_id}, format="json"
        )
        assert answer.status_code == 404


def test_batch_queues_all_at_the_given_priority(user_client, user):
    photos = PhotoFactory.create_batch(3, owner=user)

    answer = user_client.post(
        "/queue/batch",
        {"photo_ids": [photo.pk for photo in photos], "priority": 5},
        format="json",
    )

    assert answer.status_code == 202
    body = answer.json()
    assert body["submitted"] == 3
    assert body["photo_ids"] == [photo.pk for photo in photos]
    assert len(body["task_ids"]) == 3
    assert body["already_queued"] == {}
    assert set(ProcessingJob.objects.values_list("priority", flat=True)) == {5}


def test_batch_with_one_foreign_photo_queues_nothing(user_client, user, other_user):
    mine, theirs = PhotoFactory(owner=user), PhotoFactory(owner=other_user)

    answer = user_client.post(
        "/queue/batch", {"photo_ids": [mine.pk, theirs.pk]}, format="json"
    )

    assert answer.status_code == 404
    assert str(theirs.pk) in answer.json()["detail"]
    assert not ProcessingJob.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"photo_ids": []},
        {"photo_ids": [1], "priority": 10},
        {"photo_ids": "1,2"},
        # Past what a bigint id holds: refused, never sent to the database.
        {"photo_ids": [1, 2**63]},
    ],
)
def test_batch_with_a_bad_body_is_400(user_client, body):
    assert user_client.post("/queue/batch", body, format="json").status_code == 400


def test_an_id_too_large_for_any_row_is_named_in_the_400(user_client):
    answer = user_client.post(
        "/queue/batch", {"photo_ids": [7460345799194154872340480]}, format="json"
    )

    assert answer.status_code == 400
    assert "photo_ids" in answer.json()["detail"]


def test_session_queues_its_photos_with_auto_select(user_client, user, other_user):
    session = PhotoSessionFactory(owner=user)
    PhotoFactory.create_batch(2, owner=user, session=session)
    foreign = PhotoSessionFactory(owner=other_user)

    answer = user_client.post(
        f"/queue/session/{session.pk}", {"auto_select": True}, format="json"
    )

    assert answer.status_code == 202
    body = answer.json()
    assert (body["session_id"], body["auto_select"], body["submitted"]) == (
        session.pk,
        True,
        2,
    )
    assert user_client.post(f"/queue/session/{foreign.pk}").status_code == 404
    assert user_client.post("/queue/session/abc").status_code == 404


# STATUS, CANCEL, RETRY, FAILED -------------------------------------------


def test_status_answers_the_engine_s_task_state(user_client, user, other_user):
    photo = PhotoFactory(owner=user)
    job, _ = services.photo_submit(photo=photo, submitted_by=user)
    other_client = user_client.__class__()
    other_client.force_authenticate(other_user)

    answer = user_client.get(f"/queue/status/{job.task_id}")

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= TASK_STATE_KEYS
    assert (body["state"], body["ready"], body["photo_id"]) == (
        "PENDING",
        False,
        photo.pk,
    )
    assert other_client.get(f"/queue/status/{job.task_id}").status_code == 404
    assert user_client.get(f"/queue/status/{uuid.uuid4()}").status_code == 404
    assert user_client.get("/queue/status/not-a-uuid").status_code == 404


def test_status_of_a_failed_job_carries_the_reason(user_client, user):
    job = failed_job(user)

    body = user_client.get(f"/queue/status/{job.task_id}").json()

    assert body["state"] == "FAILURE"
    assert "missing" in body["error"]


def test_cancel_then_retry_a_task(user_client, user):
    job, _ = services.photo_submit(photo=PhotoFactory(owner=user), submitted_by=user)

    cancelled = user_client.post(f"/queue/cancel/{job.task_id}")
    again = user_client.post(f"/queue/cancel/{job.task_id}")
    retried = user_client.post(f"/queue/retry/{job.task_id}")

    assert cancelled.status_code == 200
    assert (cancelled.json()["state"], cancelled.json()["status"]) == (
        "REVOKED",
        "cancelled",
    )
    assert again.status_code == 409
    assert retried.status_code == 202
    body = retried.json()
    assert (body["state"], body["status"]) == ("PENDING", "queued")
    assert body["task_id"] != job.task_id
    assert body["previous_task_id"] == job.task_id
    assert user_client.get(f"/queue/status/{body['task_id']}").status_code == 200


def test_retry_of_a_queued_job_is_409_and_of_a_foreign_one_404(
    user_client, user, other_user
):
    mine, _ = services.photo_submit(photo=PhotoFactory(owner=user), submitted_by=user)
    theirs = failed_job(other_user)

    assert user_client.post(f"/queue/retry/{mine.task_id}").status_code == 409
    assert user_client.post(f"/queue/retry/{theirs.task_id}").status_code == 404
    assert user_client.post(f"/queue/cancel/{theirs.task_id}").status_code == 404


def test_failed_lists_the_user_s_failed_jobs(
    user_client, staff_client, user, other_user
):
    mine = failed_job(user)
    failed_job(other_user)

    body = user_client.get("/queue/failed?limit=10").json()
    everyone = staff_client.get("/queue/failed").json()

    assert body["count"] == 1
    (entry,) = body["failed_jobs"]
    assert entry["id"] == str(mine.id)
    assert entry["task_id"] == mine.task_id
    assert entry["job_type"] == "photos.analyze"
    assert entry["state"] == "FAILURE"
    assert "missing" in entry["error_message"]
    assert everyone["count"] == 2
    assert staff_client.get("/queue/failed?limit=1").json()["count"] == 1
    assert user_client.get("/queue/failed?limit=0").status_code == 400
    assert user_client.get("/queue/failed?limit=lots").status_code == 400


# OPERATIONS ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/queue/stats"),
        ("get", "/queue/workers"),
        ("post", "/queue/pause"),
        ("post", "/queue/resume"),
        ("post", "/queue/purge"),
    ],
)
def test_operations_are_for_staff(user_client, anon_client, method, path):
    assert getattr(user_client, method)(path).status_code == 403
    assert getattr(anon_client, method)(path).status_code == 401


def test_user_routes_need_a_login(anon_client):
    assert (
        anon_client.post("/queue/submit", {"photo_id": 1}, format="json").status_code
        == 401
    )
    assert anon_client.get("/queue/failed").status_code == 401


def test_stats_has_the_original_s_keys_and_each_photo_queue(staff_client, user):
    services.photo_submit(photo=PhotoFactory(owner=user), submitted_by=user)
    failed_job(user)

    body = staff_client.get("/queue/stats").json()

    assert set(body) == {"active_tasks", "total_pending", "jobs_by_status", "queues"}
    # The analysis queued, and the grouping the failed photo's session got.
    assert body["total_pending"] == 2
    assert body["active_tasks"] == 0
    assert body["jobs_by_status"]["queued"] == 2
    assert body["jobs_by_status"]["failed"] == 1
    assert set(body["queues"]) == {"high_priority", "medium_priority", "low_priority"}
    assert body["queues"]["medium_priority"]["queue"] == "medium"
    assert body["queues"]["medium_priority"]["waiting"] == 1
    assert body["queues"]["low_priority"]["waiting"] == 1


def test_workers_answers_the_live_workers(staff_client):
    body = staff_client.get("/queue/workers").json()

    assert set(body) == {"workers", "total_workers", "active_tasks"}
    assert body["total_workers"] == len(body["workers"])


def test_pause_and_resume_take_our_names_and_the_original_s(staff_client):
    paused = staff_client.post(
        "/queue/pause", {"queue_name": "low_priority"}, format="json"
    )
    all_paused = staff_client.post("/queue/pause")
    resumed = staff_client.post(
        "/queue/resume", {"queue_name": "medium"}, format="json"
    )
    unknown = staff_client.post("/queue/pause", {"queue_name": "video"}, format="json")

    assert paused.json() == {
        "status": "paused",
        "queues": ["low"],
        "queue_names": ["low_priority"],
    }
    assert all_paused.json()["queues"] == ["high", "medium", "low"]
    assert resumed.json()["queue_names"] == ["medium_priority"]
    assert unknown.status_code == 400
    assert "unknown queue 'video'" in str(unknown.json()["detail"])
    assert set(
        QueueState.objects.filter(is_paused=True).values_list("name", flat=True)
    ) == {
        "high",
        "low",
    }
    staff_client.post("/queue/resume")


def test_purge_cancels_the_waiting_photo_jobs(staff_client, user):
    job, _ = services.photo_submit(photo=PhotoFactory(owner=user), submitted_by=user)

    answer = staff_client.post(
        "/queue/purge", {"queue_name": "medium_priority"}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "queues": ["medium"],
        "queue_names": ["medium_priority"],
        "purged": 1,
    }
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_queue_routes_are_rate_limited_per_user(user_client, user, settings):
    settings.API_RATELIMIT_ENABLED = True
    settings.PHOTOS_RATE_LIMITS = {**settings.PHOTOS_RATE_LIMITS, "queue": "2/m"}

    answers = [user_client.get("/queue/failed").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
