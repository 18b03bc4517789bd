"""The API docs work where no CDN is reachable: a real headless Chromium, every
request outside the test server refused, finds the operations listed."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def browser():
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/api/docs/", ".opblock-summary-path[data-path='/api/v1/auth/token/']"),
        ("/api/redoc/", "text=Submit up to 1,000 jobs in one transaction"),
    ],
)
def test_the_docs_render_with_only_the_project_reachable(
    browser, live_server, tmp_path, path, operation
):
    page = browser.new_page()
    outside: list[str] = []
    errors: list[str] = []

    def only_the_test_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_test_server)
    page.on(
        "console",
        # ReDoc's logo (an image on its CDN) is blocked by the page's own
        # Content-Security-Policy, which the browser reports as an error.
        lambda message: message.type == "error"
        and "Content Security Policy" not in message.text
        and errors.append(message.text),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + path)
    page.locator(operation).first.wait_for(state="attached", timeout=20_000)
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
    assert outside == [], f"the page asked for outside resources: {outside}"
    assert errors == [], errors
