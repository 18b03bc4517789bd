"""The operator's view in a real browser (Debian's Chromium driven by Playwright) against a
live server of the test and a real worker: log in, watch a running job's progress bar
move, pause a queue and see its jobs hold, fail a stuck job, bulk-retry a failure group
after its preview, read a job's timeline, and fit the jobs list at 1440 px.

Screenshots go to the test's tmp dir and are copied to /tmp/mq-screens/. Any console
error or uncaught page error fails the test.
"""

import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from jobs import services
from jobs.job_types import job_type_list
from jobs.models import ProcessingJob
from jobs.tests.conftest import failed_job
from jobs.tests.conftest import make_job

S = ProcessingJob.Status
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENS_FOR_THE_LEAD = Path("/tmp/mq-screens")
DISK = "OSError: [Errno 28] No space left on device: '/var/media/captures/{}.jpg'"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
    ),
]


def eventually(predicate, *, timeout_s: float = 20, message: str = ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(message or f"not within {timeout_s} s")


def status_of(job) -> str:
    return ProcessingJob.objects.values_list("status", flat=True).get(id=job.id)


@pytest.fixture
def browser_page(tmp_path, monkeypatch):
    """A 1440 x 900 Chromium page that records console errors, and a screenshot helper."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes between browser steps are synchronous all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    screens = tmp_path / "screens"
    screens.mkdir()
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.on(
            "console",
            lambda message: errors.append(f"console: {message.text}")
            if message.type == "error"
            else None,
        )
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

        def shot(name: str) -> Path:
            path = screens / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            return path

        page.shot = shot
        page.console_errors = errors
        try:
            yield page
        finally:
            browser.close()
            SCREENS_FOR_THE_LEAD.mkdir(exist_ok=True)
            for path in screens.glob("*.png"):
                shutil.copy(path, SCREENS_FOR_THE_LEAD / path.name)
    assert errors == [], errors


def log_in(page, live_server, admin_user) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/jobs/dashboard/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_selector(".ops-dashboard[data-polling=on]")


def confirm(page) -> None:
    page.wait_for_selector("#ops-confirm[open]")
    page.click("#ops-confirm-ok")


def test_an_operator_runs_the_queues_from_the_browser(
    browser_page, live_server, admin_user, start_worker, settings, capture_for
):
    settings.OPS_DASHBOARD_POLL_S = 1
    page = browser_page
    start_worker(queues="default,low", concurrency=2)
    log_in(page, live_server, admin_user)

    # A running job's progress bar moves.
    slow = services.job_submit(
        job_type="jobs.diagnostic",
        params={"sleep_s": 15, "progress_steps": 30, "result": "done"},
    )
    bar = f'.ops-job[data-job-id="{slow.id}"] .ops-progress'
    page.wait_for_selector(bar, timeout=20_000)
    first = eventually(lambda: int(page.get_attribute(bar, "data-progress") or 0))
    later = eventually(
        lambda: int(page.get_attribute(bar, "data-progress") or 0) > first + 10
        and int(page.get_attribute(bar, "data-progress")),
        message="the progress bar did not move",
    )
    assert later > first
    page.shot("01-dashboard-progress")

    # Pause a queue: its jobs hold until it is resumed.
    page.click('tr[data-queue="low"] .ops-pause')
    confirm(page)
    page.wait_for_selector('tr[data-queue="low"][data-paused="true"]')
    held = [
        services.job_submit(
            job_type="jobs.diagnostic", queue="low", params={"result": n}
        )
        for n in range(2)
    ]
    page.wait_for_function(
        "document.querySelector('tr[data-queue=\"low\"] .ops-q-waiting').textContent.startsWith('2')"
    )
    time.sleep(3)  # several polls and worker deliveries later
    assert [status_of(job) for job in held] == [S.QUEUED, S.QUEUED]
    page.shot("02-dashboard-paused")
    page.click('tr[data-queue="low"] .ops-resume')
    confirm(page)
    eventually(
        lambda: all(status_of(job) == S.COMPLETED for job in held),
        message="the held jobs did not run after resume",
    )

    # A stuck job (heartbeat long gone) is failed from the dashboard.
    stuck = make_job(
        status=S.RUNNING,
        worker="crashed@nowhere",
        attempts=1,
        started_at=timezone.now() - timedelta(minutes=30),
        heartbeat_at=timezone.now() - timedelta(minutes=30),
    )
    row = f'#ops-stuck-running tr[data-key="{stuck.id}"]'
    page.wait_for_selector(row)
    page.shot("03-dashboard-stuck")
    page.click(f"{row} .ops-fail")
    confirm(page)
    page.wait_for_selector(row, state="detached")
    assert status_of(stuck) == S.FAILED

    # Polling stops while the tab is hidden and resumes when it is shown.
    page.evaluate(
        "() => { Object.defineProperty(document, 'visibilityState', "
        "{value: 'hidden', configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    assert page.get_attribute(".ops-dashboard", "data-polling") == "off"
    fetches = page.evaluate("window.opsDashboard.fetches")
    time.sleep(2.5)
    assert page.evaluate("window.opsDashboard.fetches") == fetches
    page.evaluate(
        "() => { Object.defineProperty(document, 'visibilityState', "
        "{value: 'visible', configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    page.wait_for_function(f"window.opsDashboard.fetches > {fetches}")

    # A failure group: preview first, then a bulk retry that the worker runs.
    broken = [
        failed_job(
            DISK.format(n),
            params={"result": f"fixed {n}"},
            target=capture_for(admin_user, device_id="cam-yard"),
        )
        for n in range(3)
    ]
    page.goto(f"{live_server.url}/admin/jobs/failuregroup/")
    page.click(".ops-group-row:has-text('No space left on device') .ops-open-group")
    page.wait_for_selector("#ops-preview-total")
    assert page.inner_text("#ops-preview-total").startswith("3:")
    assert "6 files" in page.inner_text("#ops-preview-files")
    page.shot("04-failure-group-preview")
    page.click("#ops-retry-group")
    confirm(page)
    page.wait_for_selector(".messagelist .success")
    assert "Retried 3 job(s)" in page.inner_text(".messagelist")
    eventually(
        lambda: all(status_of(job) == S.COMPLETED for job in broken),
        message="the retried group did not run",
    )
    page.shot("05-failure-groups-after-retry")

    # A job's story: its timeline, with the progress the worker reported.
    eventually(lambda: status_of(slow) == S.COMPLETED, timeout_s=30)
    page.goto(f"{live_server.url}/admin/jobs/processingjob/{slow.id}/change/")
    timeline = page.inner_text("#ops-timeline")
    assert "queued on default" in timeline
    assert "attempt 1 started" in timeline
    assert "step 15 of 30" in timeline or "50%" in timeline
    assert "completed" in timeline
    page.shot("06-job-timeline")
    page.goto(f"{live_server.url}/admin/jobs/processingjob/{broken[0].id}/change/")
    story = page.inner_text("#ops-timeline")
    assert "bulk action" in story and "retried" in story
    page.shot("07-retried-job-timeline")

    # The jobs list fits 1440 px: worker, queued-at and duration are on screen,
    # with the longest registered job type and a long error.
    longest = max((spec.name for spec in job_type_list()), key=len)
    make_job(
        job_type=longest,
        status=S.RUNNING,
        worker="long@mediaqueue-worker-07.internal",
        attempts=1,
        started_at=timezone.now(),
        progress=42,
    )
    failed_job("ValueError: " + "cannot identify image file " * 6)
    page.goto(f"{live_server.url}/admin/jobs/processingjob/")
    widths = page.evaluate(
        "() => { const box = document.querySelector('.results');"
        " return [box.scrollWidth, box.clientWidth]; }"
    )
    assert widths[0] <= widths[1], widths
    headers = page.inner_text("#result_list thead")
    for column in ("WORKER", "QUEUED AT", "DURATION", "ERROR / NEXT RETRY"):
        assert column in headers.upper()
    page.shot("08-job-list-1440")

    # Back on the dashboard: the last hour's outcomes are in the charts.
    page.goto(f"{live_server.url}/admin/jobs/dashboard/")
    page.wait_for_selector("#ops-chart-hour svg rect.ops-bar-completed")
    page.shot("09-dashboard-charts")
