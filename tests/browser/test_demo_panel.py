"""Click Run on a demo panel in Chromium: change a parameter, see the chart and the
passed claims."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.browser.test_practice import sign_up

pytestmark = pytest.mark.browser


def wait_pool_ready(server: LiveServer, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not server.get_json("/api/demos")["runner"].get("ready"):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.2)


def demo_page(server: LiveServer) -> str:
    """The card page of the vanishing-gradients card, which includes the panel."""
    return "/cards/vanishing-gradients"


def test_run_a_demo_and_see_the_chart_and_passed_claims(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    wait_pool_ready(live_server)
    page = browser_page
    sign_up(page, "demo-runner")  # a run that misses the cache needs an account
    page.goto(demo_page(live_server))
    panel = page.locator('.demo-panel[data-demo="vanishing_gradients"]')
    panel.wait_for()
    assert panel.get_attribute("data-state") == "idle"

    depth = panel.locator('input[data-param="depth"]')
    depth.fill("30")
    assert panel.locator(f"#{depth.get_attribute('id')}-out").text_content() == "30"
    panel.locator('select[data-param="activation"]').select_option("tanh")

    panel.get_by_role("button", name="Run").click()
    page.wait_for_selector('.demo-panel[data-state="succeeded"]', timeout=30_000)

    assert "30-layer tanh MLP" in panel.locator(".demo-summary").text_content()
    chart = panel.locator('svg.demo-chart[data-chart="grad-norms"]')
    assert chart.count() == 1
    assert chart.locator("path.demo-line").count() == 1
    assert "(log)" in chart.text_content()  # log-y axis
    passed = panel.locator('li.demo-claim[data-claim="first-layer-gradient-vanishes"]')
    assert passed.get_attribute("data-passed") == "true"
    assert passed.locator(".demo-mark").text_content() == "✓"
    assert panel.locator(".demo-metrics tr").count() >= 3

    # The same parameters again come from the cache, marked as such.
    panel.get_by_role("button", name="Run").click()
    expect(panel.locator(".demo-status-text")).to_contain_text("cached")


def test_out_of_bounds_value_is_named_on_its_field(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.goto(demo_page(live_server))
    response = page.request.post(
        live_server.url("/api/demos/vanishing_gradients/runs"),
        data={"depth": 500},
        headers={"X-CSRF-Token": page.locator('meta[name="csrf-token"]').get_attribute("content")},
    )
    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "depth"
