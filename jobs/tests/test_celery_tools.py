"""Celery's own tools against the project: Flower and the `celery` command line.

Each test drives the real tool in a process of its own, against real
workers and Redis, and checks that the project's records agree afterwards.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from conftest import PROJECT_DIR
from conftest import database_url_for_workers
from jobs import broker
from jobs import selectors
from jobs import services
from jobs.models import ProcessingJob

S = ProcessingJob.Status
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CELERY = str(Path(sys.executable).with_name("celery"))


def tool_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_workers(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "FLOWER_UNAUTHENTICATED_API": "true",
    }


def celery(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """`celery -A config <args>` as an operator would type it."""
    return subprocess.run(
        [CELERY, "-A", "config", *args],
        cwd=PROJECT_DIR,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


class Flower:
    def __init__(self, *, with_app: bool, log_path: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = (
            [CELERY, "-A", "config", "flower"]
            if with_app
            else [CELERY, f"--broker={settings.CELERY_BROKER_URL}", "flower"]
        )
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.log_path = log_path
        self.process = subprocess.Popen(
            [*command, f"--port={port}", "--address=127.0.0.1"],
            cwd=PROJECT_DIR if with_app else log_path.parent,
            env=tool_env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def get(self, path: str):
        return requests.get(f"{self.url}{path}", timeout=10)

    def post(self, path: str):
        return requests.post(f"{self.url}{path}", timeout=10)

    def wait_ready(self, timeout_s: float = 30) -> "Flower":
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"flower exited:\n{self.log_path.read_text()}")
            try:
                if self.get("/healthcheck").status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError("flower did not answer")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        self._log.close()


@pytest.fixture
def start_flower(tmp_path):
    started: list[Flower] = []

    def start(*, with_app: bool) -> Flower:
        flower = Flower(
            with_app=with_app, log_path=tmp_path / f"flower-{len(started)}.log"
        )
        started.append(flower)
        return flower.wait_ready()

    yield start
    for flower in started:
        flower.stop()


def submit(queue: str = "default", **params) -> ProcessingJob:
    return services.job_submit(job_type="jobs.diagnostic", params=params, queue=queue)


def reload(job: ProcessingJob) -> ProcessingJob:
    return ProcessingJob.objects.get(id=job.id)


def status_is(job, *statuses):
    return lambda: reload(job).status in statuses


def consumers_of(queue: str) -> list[str]:
    return selectors.queue_get(name=queue)["consumers"]


def test_flower_with_the_project_app_sees_workers_tasks_and_queue_lengths(
    start_worker, start_flower, wait, staff_client, anon_client
):
    """Flower (-A config) lists the worker, the tasks with names and states, and
    queue lengths equal to the queues page's; /healthz and /api/v1/workers/ stay right."""
    worker = start_worker(queues="default", concurrency=1)
    flower = start_flower(with_app=True)
    wait(
        lambda: worker.name in flower.get("/api/workers?refresh=1").json(),
        timeout_s=20,
    )

    # Flower's event receiver connects a moment after its web server: jobs
    # sent before then are seen without their name. Send until one is seen.
    def seen_by_flower():
        job = submit(result="seen by flower")
        wait(status_is(job, S.COMPLETED))
        for _ in range(20):
            task = flower.get("/api/tasks").json().get(job.task_id)
            if task and task["state"] == "SUCCESS" and task["name"]:
                return task
            time.sleep(0.25)
        return None

    task = wait(seen_by_flower, timeout_s=40)
    assert task["name"] == "jobs.diagnostic"
    for _ in range(3):
        submit(queue="low")  # no worker consumes low: the messages stay in Redis
    lengths = {
        queue["name"]: queue["messages"]
        for queue in flower.get("/api/queues/length").json()["active_queues"]
    }
    assert lengths["default"] == selectors.queue_get(name="default")["in_broker"] == 0
    # Flower measures the queues its workers consume: ask for `low` by hand.
    assert (
        broker.queue_depths(["low"])["low"]
        == selectors.queue_get(name="low")["in_broker"]
        == 3
    )

    assert anon_client.get("/healthz").status_code == 200
    listed = [w["name"] for w in staff_client.get("/api/v1/workers/").json()]
    assert listed == [worker.name]


def test_flower_started_plainly_against_the_broker_leaves_remote_control_working(
    start_worker, start_flower, wait, staff_client, anon_client
):
    """A default-configured client (plain `celery --broker=... flower`) registers its reply
    queue as kombu does by default: the project's workers keep answering every command."""
    worker = start_worker(queues="default", concurrency=1)
    flower = start_flower(with_app=False)
    wait(
        lambda: worker.name in flower.get("/api/workers?refresh=1").json(), timeout_s=20
    )

    from celery import current_app

    assert worker.name in (current_app.control.inspect(timeout=2).ping() or {})
    assert anon_client.get("/healthz").status_code == 200
    listed = [w["name"] for w in staff_client.get("/api/v1/workers/").json()]
    assert listed == [worker.name]
    # Every binding kombu keeps splits into its three parts.
    client = broker.broker_client()
    for key in client.scan_iter(match="_kombu.binding.*"):
        for member in client.smembers(key):
            assert member.count(b"\x06\x16") == 2, (key, member)


def test_a_malformed_binding_entry_is_removed_and_remote_control_recovers(
    start_worker, wait
):
    """An entry written with another separator is dropped by the watchdog; pings answer again."""
    worker = start_worker(queues="default,maintenance", concurrency=1)
    client = broker.broker_client()
    client.sadd("_kombu.binding.reply.celery.pidbox", "foreign:client:queue")

    summary = services.watchdog_run()

    assert summary["bindings_repaired"] == 1
    assert b"foreign:client:queue" not in client.smembers(
        "_kombu.binding.reply.celery.pidbox"
    )
    from celery import current_app

    assert worker.name in (current_app.control.inspect(timeout=2).ping() or {})


def test_a_flower_revoke_of_a_running_job_cancels_it_and_a_retry_completes(
    start_worker, start_flower, wait
):
    """Flower's revoke (terminate) ends the job `cancelled` with who/when in its log;
    a retry gets a new task id, so the worker's revoked set does not stop it."""
    start_worker(queues="default", concurrency=1)
    flower = start_flower(with_app=True)
    job = submit(sleep_s=30, result="never")
    wait(status_is(job, S.RUNNING))
    first_task_id = reload(job).task_id

    answer = flower.post(f"/api/task/revoke/{first_task_id}?terminate=true")

    assert answer.status_code == 200, answer.text
    wait(status_is(job, S.CANCELLED), timeout_s=15)
    cancelled = reload(job)
    revoke = cancelled.attempt_log[-1]
    assert revoke["event"] == "revoked" and revoke["how"] == "terminated"
    assert revoke["task_id"] == first_task_id and "at" in revoke
    assert "through Celery remote control" in cancelled.error_message

    ProcessingJob.objects.filter(id=job.id).update(params={"result": "after revoke"})
    retried = services.job_retry(job_id=job.id)
    assert retried.task_id != first_task_id
    wait(status_is(job, S.COMPLETED), timeout_s=20)
    assert reload(job).result == "after revoke"


def test_celery_inspect_commands_report_the_workers(start_worker, wait):
    """inspect ping/active/reserved/stats/active_queues answer for the project's worker,
    and `active` names the running job's current task id."""
    worker = start_worker(queues="default,low", concurrency=1)
    job = submit(sleep_s=60, result="inspected")
    wait(status_is(job, S.RUNNING))
    active = json.loads(celery("inspect", "active", "--timeout", "3", "--json").stdout)
    assert [task["id"] for task in active[worker.name]] == [reload(job).task_id]
    for command in ("ping", "reserved", "stats"):
        result = celery("inspect", command, "--timeout", "3", "--json")
        assert result.returncode == 0, (command, result.stderr)
        assert worker.name in json.loads(result.stdout), command
    queues = json.loads(
        celery("inspect", "active_queues", "--timeout", "3", "--json").stdout
    )
    assert sorted(q["name"] for q in queues[worker.name]) == ["default", "low"]
    services.job_cancel(job_id=job.id)


def test_celery_call_and_result_work(start_worker, wait):
    """`celery call` sends a task the worker runs; `celery result` reads its result."""
    start_worker(queues="maintenance", concurrency=1)
    sent = celery("call", "jobs.watchdog", "--queue", "maintenance")
    assert sent.returncode == 0, sent.stderr
    task_id = sent.stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id), sent.stdout

    def result():
        answer = celery("result", task_id)
        return answer.returncode == 0 and "resent_queued" in answer.stdout and answer

    wait(result, timeout_s=30, interval_s=0.5)


def test_celery_purge_drops_messages_and_the_watchdog_sends_them_again(clean_broker):
    """The database is the record: purged jobs stay queued, shown as waiting for re-send,
    until the watchdog sends them again."""
    jobs = [submit(queue="low") for _ in range(3)]
    assert selectors.queue_get(name="low")["in_broker"] == 3

    purged = celery("purge", "-f", "-Q", "low")

    assert purged.returncode == 0, purged.stderr
    low = selectors.queue_get(name="low")
    assert (low["waiting"], low["in_broker"], low["awaiting_resend"]) == (3, 0, 3)
    assert {reload(job).status for job in jobs} == {S.QUEUED}
    assert services.watchdog_run()["resent_queued"] == 3
    low = selectors.queue_get(name="low")
    assert (low["in_broker"], low["awaiting_resend"]) == (3, 0)


def test_cancel_consumer_leaves_a_queue_unconsumed_and_that_is_flagged(
    start_worker, wait, staff_client, anon_client
):
    """After `celery control cancel_consumer default`, waiting jobs are flagged (API,
    readiness); `add_consumer` brings the consumer back and the jobs run."""
    worker = start_worker(queues="default", concurrency=1)
    wait(lambda: consumers_of("default") == [worker.name])

    cancelled = celery("control", "cancel_consumer", "default")

    assert cancelled.returncode == 0, cancelled.stderr
    wait(lambda: consumers_of("default") == [])
    job = submit(result="after add_consumer")
    queue = next(
        q for q in staff_client.get("/api/v1/queues/").json() if q["name"] == "default"
    )
    assert queue["unconsumed"] is True and queue["waiting"] == 1
    ready = anon_client.get("/readyz")
    assert ready.status_code == 503
    assert "no worker consumes default" in ready.json()["checks"]["queues"]

    added = celery("control", "add_consumer", "default")

    assert added.returncode == 0, added.stderr
    wait(status_is(job, S.COMPLETED), timeout_s=20)
    assert consumers_of("default") == [worker.name]


def test_add_consumer_on_a_paused_queue_is_undone_instead_of_spinning(
    start_worker, wait
):
    """A paused queue consumed again by hand (`add_consumer`): the worker gives the
    message back and stops consuming again; the job waits for the resume."""
    worker = start_worker(queues="default", concurrency=1)
    services.queue_pause(queue="default")
    wait(lambda: consumers_of("default") == [])
    job = submit(result="after resume")

    celery("control", "add_consumer", "default")

    wait(lambda: "job_held" in worker.log(), timeout_s=15)
    wait(lambda: consumers_of("default") == [], timeout_s=10)
    time.sleep(2)  # a spinning worker would take and return the job again and again
    assert worker.log().count("job_held") <= 2
    assert reload(job).status == S.QUEUED
    services.queue_resume(queue="default")
    wait(status_is(job, S.COMPLETED), timeout_s=20)
