"""The job engine's HTTP API: permissions, status codes, shapes, one real round trip."""

import uuid
from datetime import timedelta

import pytest
from celery import current_app as celery_app
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.authtoken.models import Token

from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.registry import register_job_type
from jobs.tests.factories import ProcessingJobFactory

S = ProcessingJob.Status
API = "/api/v1"


@register_job_type("tests.not_submittable", staff_submittable=False)
def not_submittable(job):
    """A job type only code may submit, never the API."""
    return None


def job_url(job_id, suffix: str = "") -> str:
    return f"{API}/jobs/{job_id}/{suffix}"


def submit(client, **body):
    return client.post(
        f"{API}/jobs/", {"job_type": "jobs.diagnostic", **body}, format="json"
    )


# PERMISSIONS --------------------------------------------------------------

STAFF_ROUTES = [
    ("get", "/jobs/"),
    ("post", "/jobs/"),
    ("get", "/jobs/{job}/"),
    ("post", "/jobs/{job}/cancel/"),
    ("post", "/jobs/{job}/retry/"),
    ("get", "/jobs/stats/"),
    ("get", "/jobs/failed/"),
    ("get", "/queues/"),
    ("get", "/queues/default/"),
    ("post", "/queues/default/pause/"),
    ("post", "/queues/default/resume/"),
    ("post", "/queues/default/purge/"),
    ("get", "/workers/"),
]

# Routes that only read: staff get 200 from each.
STAFF_READ_ROUTES = [
    *[(method, path) for method, path in STAFF_ROUTES if method == "get"],
    ("get", "/tasks/{job}/"),
]


@pytest.mark.django_db
def test_users_see_and_cancel_only_the_tasks_of_jobs_they_submitted(
    user_client, user, other_user
):
    """A user's own job answers /tasks/{id}/ (and can be cancelled); another's is 404."""
    own = ProcessingJobFactory(submitted_by=user, status=S.RUNNING, progress=20)
    theirs = ProcessingJobFactory(submitted_by=other_user)
    body = user_client.get(f"{API}/tasks/{own.id}/").json()
    assert (body["job_id"], body["state"], body["current"]) == (
        str(own.id),
        "PROGRESS",
        20,
    )
    for method in ("get", "delete"):
        response = getattr(user_client, method)(f"{API}/tasks/{theirs.id}/")
        assert response.status_code == 404
    cancelled = user_client.delete(f"{API}/tasks/{own.id}/")
    assert cancelled.json() == {
        "task_id": str(own.id),
        "job_id": str(own.id),
        "state": "REVOKED",
        "status": "cancelled",
        "message": "Task has been cancelled",
    }
    theirs.refresh_from_db()
    assert theirs.status == S.QUEUED


def _call(client, method: str, path: str, job: ProcessingJob):
    return getattr(client, method)(API + path.format(job=job.id), format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
def test_anonymous_callers_get_401_with_a_token_challenge(anon_client, method, path):
    """Without credentials every staff route answers 401 and asks for a token."""
    job = ProcessingJobFactory()
    response = _call(anon_client, method, path, job)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "credentials" in response.json()["detail"]
    assert ProcessingJob.objects.get(id=job.id).status == S.QUEUED


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
def test_authenticated_non_staff_users_get_403(user_client, method, path):
    """A valid token of a non-staff user is refused with 403 on every staff route."""
    job = ProcessingJobFactory()
    response = _call(user_client, method, path, job)
    assert response.status_code == 403
    assert "permission" in response.json()["detail"]
    assert ProcessingJob.objects.get(id=job.id).status == S.QUEUED


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), STAFF_READ_ROUTES)
def test_staff_can_read_every_route(staff_client, clean_broker, method, path):
    """A staff token reads every GET route."""
    job = ProcessingJobFactory()
    response = _call(staff_client, method, path, job)
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_a_session_login_works_too(client, staff_user):
    """Staff logged in with a session (the browsable API) are let in as well."""
    client.force_login(staff_user)
    assert client.get(f"{API}/jobs/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_are_public(anon_client, path):
    """The OpenAPI schema and the Swagger UI need no credentials."""
    assert anon_client.get(path).status_code == 200


@pytest.mark.django_db
def test_an_unknown_api_route_answers_json_404(staff_client):
    """A URL under /api/ that no route matches still answers JSON."""
    response = staff_client.get(f"{API}/no-such-thing/")
    assert response.status_code == 404
    assert "no-such-thing" in response.json()["detail"]


# AUTH TOKEN ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_is_issued_for_good_credentials_and_opens_the_api(
    anon_client, staff_user
):
    """username/password give a token; that token then authenticates staff routes."""
    response = anon_client.post(
        f"{API}/auth/token/",
        {"username": "operator", "password": "operator-pass-123"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=staff_user).key
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon_client.get(f"{API}/jobs/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"username": "operator", "password": "wrong"},
        {"username": "nobody", "password": "operator-pass-123"},
    ],
)
def test_bad_credentials_get_400_json(anon_client, staff_user, body):
    """Wrong username or password: 400 with a JSON reason, and no token."""
    response = anon_client.post(f"{API}/auth/token/", body, format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["detail"]["non_field_errors"][0]
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_missing_credentials_name_the_fields(anon_client):
    """An empty body names both required fields."""
    response = anon_client.post(f"{API}/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["detail"]) == {"username", "password"}


@pytest.mark.django_db
def test_a_stale_token_header_does_not_block_logging_in(anon_client, staff_user):
    """Logging in ignores whatever Authorization header the client still sends."""
    anon_client.credentials(HTTP_AUTHORIZATION="Token expired-or-revoked")
    response = anon_client.post(
        f"{API}/auth/token/",
        {"username": "operator", "password": "operator-pass-123"},
        format="json",
    )
    assert response.status_code == 200


# JOBS: READ ---------------------------------------------------------------

JOB_FIELDS = {
    "id",
    "job_type",
    "status",
    "queue",
    "priority",
    "progress",
    "progress_message",
    "attempts",
    "max_retries",
    "params",
    "result",
    "error",
    "worker",
    "target",
    "queued_at",
    "started_at",
    "completed_at",
    "heartbeat_at",
    "duration_s",
    "attempt_log",
    "submitted_by",
}


@pytest.mark.django_db
def test_a_job_is_shown_with_every_field(staff_client, staff_user):
    """The job JSON carries the row's state, its target, duration and submitter."""
    started = timezone.now() - timedelta(seconds=3)
    job = ProcessingJobFactory(
        status=S.FAILED,
        content_type=ContentType.objects.get_for_model(staff_user),
        object_id=str(staff_user.pk),
        error_message="Boom: it broke",
        started_at=started,
        completed_at=started + timedelta(seconds=2.5),
        submitted_by=staff_user,
        attempt_log=[{"event": "attempt_failed", "attempt": 1}],
    )
    body = staff_client.get(job_url(job.id)).json()
    assert set(body) == JOB_FIELDS
    assert body["id"] == str(job.id)
    assert body["target"] == {"type": "auth.user", "id": str(staff_user.pk)}
    assert body["error"] == "Boom: it broke"
    assert body["duration_s"] == 2.5
    assert body["submitted_by"] == "operator"
    assert body["attempt_log"] == [{"event": "attempt_failed", "attempt": 1}]


@pytest.mark.django_db
def test_a_job_without_target_or_submitter_shows_nulls(staff_client):
    """No target and no submitter are null, not missing."""
    body = staff_client.get(job_url(ProcessingJobFactory().id)).json()
    assert body["target"] is None
    assert body["submitted_by"] is None
    assert body["duration_s"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("job_id", [str(uuid.uuid4()), "not-a-uuid", "12345", "a.b"])
def test_an_unknown_or_malformed_job_id_is_404_json(staff_client, job_id):
    """Any id that names no job is a JSON 404 naming the id, for every job route."""
    for url, method in [
        (job_url(job_id), "get"),
        (job_url(job_id, "cancel/"), "post"),
        (job_url(job_id, "retry/"), "post"),
    ]:
        response = getattr(staff_client, method)(url)
        assert response.status_code == 404, url
        assert job_id in response.json()["detail"]


@pytest.mark.django_db
def test_the_list_is_newest_first_and_paginated(staff_client, settings):
    """Jobs come newest first, in pages of REST_FRAMEWORK's PAGE_SIZE (50)."""
    now = timezone.now()
    jobs = ProcessingJob.objects.bulk_create(
        ProcessingJob(
            job_type="jobs.diagnostic",
            queue="default",
            queued_at=now - timedelta(seconds=n),
        )
        for n in range(51)
    )
    first = staff_client.get(f"{API}/jobs/").json()
    assert first["count"] == 51
    assert [job["id"] for job in first["results"]] == [str(job.id) for job in jobs[:50]]
    second = staff_client.get(first["next"]).json()
    assert [job["id"] for job in second["results"]] == [str(jobs[50].id)]
    assert second["next"] is None


@pytest.mark.django_db
def test_the_list_filters_by_status_type_queue_and_target(
    staff_client, staff_user, user
):
    """Each filter narrows the list; filters combine."""
    user_type = ContentType.objects.get_for_model(user)
    failed = ProcessingJobFactory(status=S.FAILED, queue="high")
    other_type = ProcessingJobFactory(job_type="tests.not_submittable", queue="low")
    on_user = ProcessingJobFactory(content_type=user_type, object_id=str(user.pk))
    on_staff = ProcessingJobFactory(
        content_type=user_type, object_id=str(staff_user.pk)
    )

    def ids(query: str) -> set[str]:
        response = staff_client.get(f"{API}/jobs/?{query}")
        assert response.status_code == 200, response.content
        return {job["id"] for job in response.json()["results"]}

    assert ids("status=failed") == {str(failed.id)}
    assert ids("job_type=tests.not_submittable") == {str(other_type.id)}
    assert ids("queue=high") == {str(failed.id)}
    assert ids("target_type=auth.user") == {str(on_user.id), str(on_staff.id)}
    assert ids(f"target_type=auth.user&target_id={user.pk}") == {str(on_user.id)}
    assert ids("target_type=captures.capture") == set()
    assert ids("status=queued&queue=low") == {str(other_type.id)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=exploded", "status"),
        ("target_type=capture", "target_type"),
        ("target_type=captures.capture.extra", "target_type"),
    ],
)
def test_a_bad_filter_value_is_400_naming_the_filter(staff_client, query, field):
    """An unknown status or a target_type not shaped 'app_label.model' is refused."""
    response = staff_client.get(f"{API}/jobs/?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert field in response.json()["detail"]


@pytest.mark.django_db
def test_stats_count_jobs_by_status_and_type_and_list_queues(
    staff_client, clean_broker
):
    """stats: counts by status (every status present), by type, type rates and queues."""
    ProcessingJobFactory(status=S.COMPLETED)
    ProcessingJobFactory(status=S.FAILED)
    ProcessingJobFactory(status=S.QUEUED)
    body = staff_client.get(f"{API}/jobs/stats/").json()
    assert set(body) == {"by_status", "by_type", "types", "queues"}
    assert body["by_status"] == {
        "queued": 1,
        "running": 0,
        "retrying": 0,
        "completed": 1,
        "failed": 1,
        "cancelled": 0,
    }
    assert body["by_type"]["jobs.diagnostic"]["completed"] == 1
    [diagnostic] = body["types"]
    assert diagnostic["job_type"] == "jobs.diagnostic"
    assert diagnostic["success_rate"] == 0.5
    assert {queue["name"] for queue in body["queues"]} >= {"default", "high", "video"}


@pytest.mark.django_db
def test_failed_lists_the_most_recently_failed_first_up_to_the_limit(staff_client):
    """failed: only failed jobs, newest failure first, at most `limit`."""
    now = timezone.now()
    old = ProcessingJobFactory(status=S.FAILED, completed_at=now - timedelta(hours=2))
    recent = ProcessingJobFactory(
        status=S.FAILED, completed_at=now - timedelta(hours=1)
    )
    ProcessingJobFactory(status=S.COMPLETED, completed_at=now)
    body = staff_client.get(f"{API}/jobs/failed/").json()
    assert [job["id"] for job in body] == [str(recent.id), str(old.id)]
    limited = staff_client.get(f"{API}/jobs/failed/?limit=1").json()
    assert [job["id"] for job in limited] == [str(recent.id)]


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["0", "501", "-3", "many"])
def test_a_bad_failed_limit_is_400_naming_limit(staff_client, limit):
    """limit must be an integer 1..500."""
    response = staff_client.get(f"{API}/jobs/failed/?limit={limit}")
    assert response.status_code == 400
    assert "limit" in response.json()["detail"]


# JOBS: SUBMIT -------------------------------------------------------------


@pytest.mark.django_db
def test_submitting_a_job_answers_201_with_the_queued_job(staff_client):
    """POST jobs/ writes a queued job for the caller and returns it."""
    response = submit(
        staff_client, params={"sleep_s": 1, "result": [1]}, priority=8, queue="high"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == JOB_FIELDS
    job = ProcessingJob.objects.get(id=body["id"])
    assert (job.status, job.queue, job.priority) == (S.QUEUED, "high", 8)
    assert job.params == {"sleep_s": 1, "result": [1]}
    assert body["submitted_by"] == "operator"


@pytest.mark.django_db
def test_submitting_uses_the_job_types_defaults(staff_client):
    """Without queue and priority the job type's defaults apply."""
    body = submit(staff_client).json()
    assert (body["queue"], body["priority"], body["params"]) == ("default", 5, {})


@pytest.mark.django_db
def test_the_same_idempotency_key_returns_the_same_job_with_200(staff_client):
    """A replayed submit answers 200 with the job the key already names; no new row."""
    first = submit(staff_client, idempotency_key="upload-7")
    again = submit(staff_client, idempotency_key="upload-7", params={"result": 2})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert ProcessingJob.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_jobs_idempotency_key_makes_a_new_job_with_201(staff_client):
    """A failed job's key does not block a new submit: that one is created (201)."""
    failed = ProcessingJobFactory(idempotency_key="upload-8", status=S.FAILED)
    response = submit(staff_client, idempotency_key="upload-8")
    assert response.status_code == 201
    assert response.json()["id"] != str(failed.id)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"job_type": "no.such.type"}, "job_type", "unknown job type 'no.such.type'"),
        (
            {"job_type": "tests.not_submittable"},
            "job_type",
            "'tests.not_submittable' cannot be submitted",
        ),
        ({"job_type": ""}, "job_type", "blank"),
        ({"params": {"sleep_s": -1}}, "params", "sleep_s"),
        ({"params": {"fail_times": "often"}}, "params", "fail_times"),
        ({"params": [1, 2]}, "params", "dictionary"),
        ({"queue": "nowhere"}, "queue", "unknown queue 'nowhere'"),
        ({"priority": 10}, "priority", "less than or equal to 9"),
        ({"priority": "urgent"}, "priority", "integer"),
    ],
)
def test_a_bad_submit_is_400_naming_the_problem(staff_client, body, field, words):
    """Unknown or non-submittable types, bad params, queue or priority: 400, nothing saved."""
    response = staff_client.post(
        f"{API}/jobs/", {"job_type": "jobs.diagnostic", **body}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["detail"]
    assert field in errors, errors
    assert words in str(errors[field])
    assert not ProcessingJob.objects.exists()


@pytest.mark.django_db
def test_bad_params_name_the_params_field(staff_client):
    """The type's params serializer reports per field, under params."""
    response = submit(staff_client, params={"sleep_s": 99999, "progress_steps": -1})
    assert response.status_code == 400
    assert set(response.json()["detail"]["params"]) == {"sleep_s", "progress_steps"}


@pytest.mark.django_db
def test_a_missing_job_type_is_400(staff_client):
    """job_type is required."""
    response = staff_client.post(f"{API}/jobs/", {"params": {}}, format="json")
    assert response.status_code == 400
    assert "required" in response.json()["detail"]["job_type"][0]


@pytest.mark.django_db
def test_a_non_json_body_is_415_and_malformed_json_400(staff_client):
    """Plain text is an unsupported media type; broken JSON a parse error; both JSON."""
    text = staff_client.post(f"{API}/jobs/", "job_type=x", content_type="text/plain")
    assert text.status_code == 415
    assert "text/plain" in text.json()["detail"]
    broken = staff_client.post(
        f"{API}/jobs/", '{"job_type": ', content_type="application/json"
    )
    assert broken.status_code == 400
    assert "JSON parse error" in broken.json()["detail"]
    assert not ProcessingJob.objects.exists()


# JOBS: CANCEL AND RETRY ---------------------------------------------------


@pytest.mark.django_db
def test_cancelling_a_queued_job_answers_the_cancelled_job(staff_client):
    """A queued job is cancelled; the answer shows who cancelled it."""
    job = ProcessingJobFactory()
    response = staff_client.post(job_url(job.id, "cancel/"))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["error"] == "cancelled by operator"
    assert ProcessingJob.objects.get(id=job.id).status == S.CANCELLED


@pytest.mark.django_db
@pytest.mark.parametrize("finished", [S.COMPLETED, S.FAILED, S.CANCELLED])
def test_cancelling_a_finished_job_is_409(staff_client, finished):
    """Only active jobs can be cancelled: a finished one answers 409 naming its status."""
    job = ProcessingJobFactory(status=finished, completed_at=timezone.now())
    response = staff_client.post(job_url(job.id, "cancel/"))
    assert response.status_code == 409
    assert f"is {finished}" in response.json()["detail"]
    assert ProcessingJob.objects.get(id=job.id).status == finished


@pytest.mark.django_db
@pytest.mark.parametrize("previous", [S.FAILED, S.CANCELLED])
def test_retrying_a_failed_or_cancelled_job_queues_it_again(staff_client, previous):
    """retry puts a failed or cancelled job back to queued with its history kept."""
    job = ProcessingJobFactory(
        status=previous, attempts=4, error_message="x", completed_at=timezone.now()
    )
    response = staff_client.post(job_url(job.id, "retry/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["attempts"], body["error"]) == ("queued", 0, "")
    assert body["attempt_log"][-1]["event"] == "manual_retry"
    assert body["attempt_log"][-1]["by"] == "operator"


@pytest.mark.django_db
@pytest.mark.parametrize("state", [S.COMPLETED, S.QUEUED, S.RUNNING, S.RETRYING])
def test_retrying_a_completed_or_active_job_is_409(staff_client, state):
    """A completed or still active job cannot be retried: 409 naming its status."""
    job = ProcessingJobFactory(status=state)
    response = staff_client.post(job_url(job.id, "retry/"))
    assert response.status_code == 409
    assert f"is {state}" in response.json()["detail"]
    assert ProcessingJob.objects.get(id=job.id).status == state


# QUEUES AND WORKERS -------------------------------------------------------


@pytest.mark.django_db
def test_queues_list_every_known_queue_with_depth_and_state(staff_client, clean_broker):
    """Each queue shows waiting jobs (database), messages in Redis, reserved, running, consumers."""
    ProcessingJobFactory(status=S.RUNNING, queue="video")
    ProcessingJobFactory(status=S.QUEUED, queue="low")
    body = staff_client.get(f"{API}/queues/").json()
    by_name = {queue["name"]: queue for queue in body}
    assert set(by_name) >= {"high", "medium", "low", "default", "video", "maintenance"}
    assert by_name["video"] == {
        "name": "video",
        "paused": False,
        "waiting": 0,
        "in_broker": 0,
        "reserved": 0,
        "running": 1,
        "awaiting_resend": 0,
        "consumers": [],
        "unconsumed": False,
    }
    # A job row without a message (never sent here) waits for the watchdog's
    # re-send, and no worker consumes its queue.
    assert by_name["low"]["awaiting_resend"] == 1
    assert by_name["low"]["unconsumed"] is True


@pytest.mark.django_db
def test_a_queue_is_retrieved_by_name(staff_client, clean_broker):
    """queues/{name}/ shows that one queue."""
    body = staff_client.get(f"{API}/queues/high/").json()
    assert (body["name"], body["waiting"], body["running"]) == ("high", 0, 0)
    assert body["paused"] is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", "pause/"), ("post", "resume/"), ("post", "purge/")],
)
def test_an_unknown_queue_is_400_naming_it(staff_client, method, suffix):
    """Every queue route refuses a queue the engine doesn't know, naming it."""
    response = getattr(staff_client, method)(f"{API}/queues/nowhere/{suffix}")
    assert response.status_code == 400
    assert "unknown queue 'nowhere'" in response.json()["detail"]["queue"][0]
    assert not QueueState.objects.exists()


@pytest.mark.django_db
def test_pause_and_resume_flip_the_queues_paused_flag(staff_client, clean_broker):
    """pause marks the queue paused (by the caller); resume clears it."""
    paused = staff_client.post(f"{API}/queues/low/pause/")
    assert paused.status_code == 200
    assert paused.json()["paused"] is True
    assert QueueState.objects.get(name="low").paused_by.username == "operator"
    assert staff_client.get(f"{API}/queues/low/").json()["paused"] is True
    resumed = staff_client.post(f"{API}/queues/low/resume/")
    assert resumed.status_code == 200
    assert resumed.json()["paused"] is False


@pytest.mark.django_db
def test_purge_cancels_the_queues_waiting_jobs_and_reports_the_count(
    staff_client, clean_broker
):
    """purge cancels queued and retrying jobs of that queue only, and says how many."""
    waiting = [
        ProcessingJobFactory(queue="low"),
        ProcessingJobFactory(queue="low", status=S.RETRYING),
    ]
    running = ProcessingJobFactory(queue="low", status=S.RUNNING)
    elsewhere = ProcessingJobFactory(queue="high")
    response = staff_client.post(f"{API}/queues/low/purge/")
    assert response.status_code == 200
    assert response.json() == {"queue": "low", "cancelled": 2}
    statuses = dict(ProcessingJob.objects.values_list("id", "status"))
    assert [statuses[job.id] for job in waiting] == [S.CANCELLED, S.CANCELLED]
    assert statuses[running.id] == S.RUNNING
    assert statuses[elsewhere.id] == S.QUEUED


@pytest.mark.django_db
def test_workers_list_is_empty_without_workers(staff_client, clean_broker):
    """No worker answering: an empty list, not an error."""
    assert staff_client.get(f"{API}/workers/").json() == []


# TASK STATUS --------------------------------------------------------------


def task_url(task_id) -> str:
    return f"{API}/tasks/{task_id}/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("job_status", "state", "ready", "successful"),
    [
        (S.QUEUED, "PENDING", False, False),
        (S.RUNNING, "PROGRESS", False, False),
        (S.RETRYING, "RETRY", False, False),
        (S.COMPLETED, "SUCCESS", True, True),
        (S.FAILED, "FAILURE", True, False),
        (S.CANCELLED, "REVOKED", True, False),
    ],
)
def test_a_jobs_task_state_is_derived_from_its_row(
    staff_client, job_status, state, ready, successful
):
    """Each job status maps onto one Celery state; the row, not the backend, is read."""
    completed = job_status == S.COMPLETED
    job = ProcessingJob.objects.create(
        job_type="jobs.diagnostic",
        queue="default",
        status=job_status,
        progress=100 if completed else 40,
        progress_message="" if completed else "step 2 of 5",
        result={"answer": 42} if completed else None,
        error_message="DiagnosticFailure: boom" if job_status == S.FAILED else "",
    )
    body = staff_client.get(task_url(job.id)).json()
    assert body["task_id"] == str(job.id)
    assert body["state"] == state
    assert body["ready"] is ready
    assert body["successful"] is successful
    assert body["result"] == ({"answer": 42} if completed else None)
    assert body["error"] == (
        "DiagnosticFailure: boom" if job_status == S.FAILED else None
    )
    percent = 100 if completed else 40
    assert body["progress"] == {
        "current": percent,
        "total": 100,
        "percent": percent,
        "message": "" if completed else "step 2 of 5",
    }


@pytest.mark.django_db
def test_a_plain_tasks_stored_result_is_reported(staff_client):
    """An id that is no job falls back to the Celery result backend."""
    task_id = f"plain-{uuid.uuid4()}"
    celery_app.backend.store_result(task_id, {"resent": 3}, "SUCCESS")
    body = staff_client.get(task_url(task_id)).json()
    assert body["state"] == "SUCCESS"
    assert body["result"] == {"resent": 3}
    assert (body["ready"], body["successful"], body["error"]) == (True, True, None)
    assert body["progress"]["percent"] == 100


@pytest.mark.django_db
def test_a_plain_tasks_failure_and_progress_are_reported(staff_client):
    """A stored failure gives its error; a stored PROGRESS gives its progress."""
    failed_id, busy_id = str(uuid.uuid4()), str(uuid.uuid4())
    celery_app.backend.store_result(failed_id, KeyError("gone"), "FAILURE")
    celery_app.backend.store_result(
        busy_id,
        {"current": 3, "total": 4, "percent": 75, "message": "three"},
        "PROGRESS",
    )
    failed = staff_client.get(task_url(failed_id)).json()
    assert failed["state"] == "FAILURE"
    assert "KeyError" in failed["error"] and "gone" in failed["error"]
    assert (failed["ready"], failed["successful"], failed["result"]) == (
        True,
        False,
        None,
    )
    busy = staff_client.get(task_url(busy_id)).json()
    assert busy["state"] == "PROGRESS"
    assert busy["progress"] == {
        "current": 3,
        "total": 4,
        "percent": 75,
        "message": "three",
    }
    assert busy["ready"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "no-such-task"])
def test_an_id_that_is_neither_job_nor_task_is_404(staff_client, task_id):
    """Unknown ids are a JSON 404 for GET and DELETE, not a PENDING forever."""
    for method in ("get", "delete"):
        response = getattr(staff_client, method)(task_url(task_id))
        assert response.status_code == 404
        assert task_id in response.json()["detail"]


@pytest.mark.django_db
def test_deleting_a_jobs_task_cancels_the_job(staff_client):
    """DELETE tasks/{job id}/ cancels the job and answers REVOKED."""
    job = ProcessingJobFactory()
    response = staff_client.delete(task_url(job.id))
    assert response.status_code == 200
    assert response.json()["state"] == "REVOKED"
    assert ProcessingJob.objects.get(id=job.id).status == S.CANCELLED


@pytest.mark.django_db
def test_deleting_a_finished_jobs_task_is_409(staff_client):
    """A finished job cannot be cancelled through the task route either."""
    job = ProcessingJobFactory(status=S.COMPLETED)
    response = staff_client.delete(task_url(job.id))
    assert response.status_code == 409
    assert "is completed" in response.json()["detail"]


@pytest.mark.django_db
def test_deleting_a_plain_task_revokes_it_unless_finished(staff_client, clean_broker):
    """An unfinished plain task is revoked (202); a finished one answers 409."""
    busy_id, done_id = str(uuid.uuid4()), str(uuid.uuid4())
    celery_app.backend.store_result(busy_id, {"current": 1, "total": 2}, "PROGRESS")
    celery_app.backend.store_result(done_id, 1, "SUCCESS")
    assert staff_client.delete(task_url(busy_id)).status_code == 202
    finished = staff_client.delete(task_url(done_id))
    assert finished.status_code == 409
    assert "already finished" in finished.json()["detail"]


# THROUGH A REAL WORKER ----------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_submitted_job_runs_on_a_worker_and_reports_success(
    staff_client, start_worker, wait, settings
):
    """POST jobs/ runs on a real worker; jobs/{id}/ and tasks/{id}/ then show the result."""
    # At the test settings' 0.5 s about one inspect reply in five arrives late.
    settings.JOBS_INSPECT_TIMEOUT_S = 1.5
    worker = start_worker(queues="default", concurrency=1)
    response = submit(
        staff_client,
        params={"result": {"ok": True}, "progress_steps": 2, "sleep_s": 0.4},
    )
    assert response.status_code == 201
    job_id = response.json()["id"]

    def completed():
        body = staff_client.get(job_url(job_id)).json()
        return body if body["status"] == "completed" else None

    done = wait(completed, timeout_s=30)
    assert done["result"] == {"ok": True}
    assert done["progress"] == 100
    assert done["attempts"] == 1
    assert done["worker"] == worker.name
    task = staff_client.get(task_url(job_id)).json()
    assert task["state"] == "SUCCESS"
    assert task["result"] == {"ok": True}
    assert (task["ready"], task["successful"]) == (True, True)

    def listed_workers():
        # Each inspect reply may miss its short timeout; ask again until one lands.
        workers = staff_client.get(f"{API}/workers/").json()
        return workers if [w["name"] for w in workers] == [worker.name] else None

    [listed] = wait(listed_workers, timeout_s=10)
    assert set(listed) == {
        "name",
        "pid",
        "queues",
        "pool_size",
        "prefetch_multiplier",
        "seen_at",
        "active",
        "reserved",
    }
    assert listed["queues"] == ["default"] and listed["pool_size"] == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_job_frees_the_worker_for_the_next(
    staff_client, start_worker, wait
):
    """cancel/ on a running job ends it cancelled at once; the worker runs the next job."""
    start_worker(queues="default", concurrency=1)
    long_id = submit(staff_client, params={"sleep_s": 30, "result": "never"}).json()[
        "id"
    ]
    wait(lambda: staff_client.get(job_url(long_id)).json()["status"] == "running")
    response = staff_client.post(job_url(long_id, "cancel/"))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    next_id = submit(staff_client, params={"result": "next"}).json()["id"]
    wait(
        lambda: staff_client.get(job_url(next_id)).json()["status"] == "completed",
        timeout_s=20,
    )
    cancelled = staff_client.get(job_url(long_id)).json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["result"] is None
    assert staff_client.get(task_url(long_id)).json()["state"] == "REVOKED"
