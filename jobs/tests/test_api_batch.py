"""POST /api/v1/jobs/batch/: many jobs in one request, one transaction, sent on commit."""

import pytest

from jobs import broker
from jobs.models import ProcessingJob

BATCH = "/api/v1/jobs/batch/"


def items(count: int, **fields) -> list[dict]:
    return [
        {"job_type": "jobs.diagnostic", "params": {"result": n}, **fields}
        for n in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_two_thousand_jobs_in_two_requests_are_all_accepted_and_sent(
    staff_client, clean_broker
):
    """A staff token submits 2 x 1,000 jobs; every one is stored and has its message."""
    answers = [
        staff_client.post(BATCH, {"jobs": items(1000)}, format="json") for _ in range(2)
    ]
    assert [answer.status_code for answer in answers] == [201, 201]
    job_ids = {job_id for answer in answers for job_id in answer.json()["job_ids"]}
    assert len(job_ids) == 2000
    assert all(answer.json()["submitted"] == 1000 for answer in answers)
    assert ProcessingJob.objects.filter(status="queued").count() == 2000
    assert broker.waiting_task_ids("default") == job_ids


@pytest.mark.django_db
def test_a_batch_may_mix_types_queues_and_priorities(staff_client):
    body = {
        "jobs": [
            {"job_type": "jobs.diagnostic", "queue": "low", "priority": 1},
            {"job_type": "jobs.diagnostic", "priority": 9, "params": {"sleep_s": 1}},
        ]
    }
    answer = staff_client.post(BATCH, body, format="json")
    assert answer.status_code == 201
    jobs = ProcessingJob.objects.in_bulk(answer.json()["job_ids"])
    stored = sorted((job.queue, job.priority) for job in jobs.values())
    assert stored == [("default", 9), ("low", 1)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"jobs": items(1001)}, "jobs"),
        ({"jobs": []}, "jobs"),
        ({"jobs": [*items(2), {"job_type": "no.such.type"}]}, "jobs"),
        (
            {"jobs": [*items(2), {"job_type": "jobs.diagnostic", "priority": 12}]},
            "jobs",
        ),
        (
            {"jobs": [{"job_type": "jobs.diagnostic", "params": {"sleep_s": -1}}]},
            "jobs",
        ),
        ({"jobs": "not a list"}, "jobs"),
    ],
)
def test_a_bad_batch_is_refused_whole_and_stores_nothing(staff_client, body, field):
    """Too many, none, or one bad item: 400 naming the problem; no job is written."""
    answer = staff_client.post(BATCH, body, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid"
    assert field in answer.json()["detail"]
    assert ProcessingJob.objects.count() == 0


@pytest.mark.django_db
def test_the_batch_route_is_staff_only(user_client, anon_client):
    assert user_client.post(BATCH, {"jobs": items(1)}, format="json").status_code == 403
    assert anon_client.post(BATCH, {"jobs": items(1)}, format="json").status_code == 401
