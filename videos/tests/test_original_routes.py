"""GET /jobs/{job_id}/status: the original system's route, in its shape, owner-scoped."""

import pytest

from jobs import services as job_services
from jobs.models import ProcessingJob
from videos.tests.test_services import run_job

pytestmark = pytest.mark.django_db


def status_of(client, job_id):
    return client.get(f"/jobs/{job_id}/status")


def test_a_queued_proxy_job_is_pending_with_the_original_fields(
    make_video, user_client
):
    video = make_video("numbered.mp4")
    job_id = video.renditions.get().job_id

    answer = status_of(user_client, job_id)

    assert answer.status_code == 200
    body = answer.json()
    assert body == {
        "job_id": str(job_id),
        "job_type": "proxy_generation",
        "video_id": str(video.id),
        "status": "pending",
        "progress": 0,
        "message": "",
        "started": None,
        "completed": None,
        "duration": None,
        "error": None,
        "result": None,
        "queued": body["queued"],
        "state": "PENDING",
        "task_id": str(job_id),
        "attempts": 0,
    }


def test_a_finished_proxy_job_has_the_proxy_path_and_metadata(make_video, user_client):
    video = make_video("hd.mp4")
    job = run_job(ProcessingJob.objects.get(id=video.renditions.get().job_id))

    body = status_of(user_client, job.id).json()

    assert body["status"] == "completed"
    assert body["progress"] == 100
    assert body["state"] == "SUCCESS"
    assert body["duration"] > 0
    assert body["started"] and body["completed"]
    assert body["result"]["proxy_path"].endswith("/renditions/proxy-480p.mp4")
    assert body["result"]["metadata"]["height"] == 480


def test_a_cancelled_job_is_failed_in_the_original_words(make_video, user_client):
    video = make_video("numbered.mp4")
    job_id = video.renditions.get().job_id
    job_services.job_cancel(job_id=job_id)

    body = status_of(user_client, job_id).json()

    assert body["status"] == "failed"
    assert body["state"] == "REVOKED"
    assert body["error"].startswith("cancelled by")


def test_other_users_and_unknown_jobs_get_404_staff_see_all(
    make_video, client_for_other, staff_client, anon_client, user_client
):
    job_id = make_video("numbered.mp4").renditions.get().job_id
    other = job_services.job_submit(job_type="jobs.diagnostic")

    assert status_of(client_for_other, job_id).status_code == 404
    assert status_of(staff_client, job_id).status_code == 200
    assert status_of(anon_client, job_id).status_code == 401
    assert status_of(user_client, other.id).status_code == 404
    missing = status_of(user_client, "00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert status_of(user_client, "not-a-uuid").status_code == 404


def test_video_jobs_add_their_video_to_the_engine_task_status(make_video, user_client):
    video = make_video("numbered.mp4")
    rendition = video.renditions.get()

    body = user_client.get(f"/api/v1/tasks/{rendition.job_id}/").json()

    assert body["video_id"] == str(video.id)
    assert body["rendition_id"] == rendition.pk
