"""The card's demo from the review screen: opened under the card (no new tab) with the
card's parameters and "this card relies on it" flags, failed claims explained, and the
whole panel in Chinese on Chinese pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import wait_until
from tests.browser.test_demo_panel import wait_pool_ready
from tests.browser.test_practice import sign_up

pytestmark = pytest.mark.browser


def open_card_demo(page: Page, card_id: str) -> None:
    page.goto(f"/practice?card={card_id}")
    expect(page.locator("#stage")).to_have_attribute("data-card-id", card_id)
    pages_before = len(page.context.pages)
    page.keyboard.press("d")
    expect(page.locator("#practice-demo .demo-panel")).to_be_visible()
    assert len(page.context.pages) == pages_before  # no new tab
    assert page.url.endswith(f"/practice?card={card_id}")  # still the practice page


def test_the_demo_opens_under_the_card_with_its_parameters_and_flags(  # type: ignore[no-untyped-def]
    browser_page, live_server
) -> None:
    wait_pool_ready(live_server)
    page = browser_page
    sign_up(page, "demo-learner")
    open_card_demo(page, "lstm-vs-rnn")
    panel = page.locator("#practice-demo .demo-panel")
    # The card's parameters, not the demo's defaults (cell rnn, forget bias 1).
    expect(panel.locator('select[data-param="cell"]')).to_have_value("lstm")
    expect(panel.locator('input[data-param="forget_bias"]')).to_have_value("3")
    assert panel.get_attribute("data-proves") == "long-range-gradient-explodes"
    expect(panel.locator(".demo-heading")).to_be_focused()

    panel.get_by_role("button", name="Run").click()
    expect(panel).to_have_attribute("data-state", "succeeded", timeout=60_000)
    relied = panel.locator('li.demo-claim[data-claim="long-range-gradient-explodes"]')
    expect(relied).to_have_attribute("data-passed", "true")
    expect(relied.locator(".demo-badge")).to_have_text("this card relies on it")
    # Every red mark says why: the claim that fails here names where its effect shows.
    failed = panel.locator('li.demo-claim[data-passed="false"]')
    assert failed.count() >= 1
    for i in range(failed.count()):
        expect(failed.nth(i).locator(".demo-claim-why")).to_contain_text(
            "These parameters do not show this effect"
        )
    survives = panel.locator('li.demo-claim[data-claim="long-range-gradient-survives"]')
    expect(survives.locator(".demo-claim-why")).to_contain_text("recurrent gain 1")

    # Back to the card, and on to grading it: the demo goes with the card.
    page.get_by_role("link", name="Back to the card").click()
    page.keyboard.press("Space")
    expect(page.locator(".review-answer")).to_be_visible()
    page.keyboard.press("3")
    expect(page.locator("#stage")).not_to_have_attribute("data-card-id", "lstm-vs-rnn")
    expect(page.locator("#practice-demo .demo-panel")).to_have_count(0)


def test_a_demo_run_on_a_chinese_page_is_in_chinese(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    wait_pool_ready(live_server)
    page = browser_page
    sign_up(page, "demo-zh")
    page.goto("/settings")
    page.select_option("#language", "zh")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".notice.ok")).to_have_text("已保存。")
    open_card_demo(page, "lstm-vs-rnn")
    panel = page.locator("#practice-demo .demo-panel")
    expect(panel.locator(".demo-heading")).to_contain_text("随时间反传的梯度")
    expect(panel.locator('label[for$="-seq_len"]')).to_have_text("序列长度（时间步数）")
    # Below the exploding gain, the claim this card relies on fails and says why.
    panel.locator('input[data-param="recurrent_gain"]').fill("1")
    panel.locator("button.demo-run").click()
    expect(panel).to_have_attribute("data-state", "succeeded", timeout=60_000)
    expect(panel.locator(".demo-run")).to_have_text("运行")
    expect(panel.locator(".demo-status-text")).to_contain_text("完成")
    expect(panel.locator(".demo-summary")).to_contain_text("第 1 步的梯度")
    explodes = panel.locator('li.demo-claim[data-claim="long-range-gradient-explodes"]')
    expect(explodes).to_have_attribute("data-passed", "false")
    expect(explodes.locator(".demo-claim-text")).to_contain_text("超过最后一步梯度的 1000 倍")
    expect(explodes.locator(".demo-claim-why")).to_contain_text("循环增益 8")
    expect(explodes.locator(".demo-badge")).to_have_text("这张卡片依赖这一结论")
    chart = panel.locator("figure.demo-figure").first
    expect(chart.locator("figcaption")).to_contain_text("循环增益 1")
    expect(chart.locator("svg.demo-chart")).to_contain_text("时间步 t")
    expect(panel.locator(".demo-metrics th").first).to_contain_text("第一步/最后一步")


def chart_json(lo: float, hi: float, *, log_y: bool = True, series: int = 3) -> dict:
    xs = list(range(20))
    return {
        "id": "c", "title": "Adam effective step", "kind": "line", "x_label": "step",
        "y_label": "value", "log_y": log_y, "categories": [],
        "series": [
            {"name": f"series number {k}", "x": xs,
             "y": [lo + (hi - lo) * i / 19 for i in xs]}
            for k in range(series)
        ],
    }  # fmt: skip


@pytest.mark.parametrize("width", [340, 900])
def test_log_charts_always_have_numbered_ticks_and_readable_text(  # type: ignore[no-untyped-def]
    browser_page, width
) -> None:
    page = browser_page
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/demos/adam_vs_sgd")
    wait_until(page, "window.backpropDemoCharts !== undefined")
    # Ranges inside one decade, across a few, and over many: each gets at least two
    # numbered ticks (the Adam chart spanned 0.9..1.1 and showed none).
    for lo, hi in [(0.9, 1.1), (0.0101, 0.0109), (1e-3, 5.0), (1e-16, 1e3), (2.0, 2.0)]:
        texts = page.evaluate(
            """(chart) => {
                const fig = document.createElement("figure");
                fig.className = "demo-figure";
                document.querySelector(".demo-result").hidden = false;
                document.querySelector(".demo-charts").appendChild(fig);
                const node = window.backpropDemoCharts.draw(chart, fig.clientWidth);
                fig.appendChild(node);
                const marks = node.querySelectorAll("text.demo-tick");
                const ticks = Array.from(marks).map(t => t.textContent);
                const size = parseFloat(getComputedStyle(marks[0]).fontSize);
                const shown = node.getBoundingClientRect().width / node.viewBox.baseVal.width;
                fig.remove();
                return {ticks, px: size * shown};
            }""",
            chart_json(lo, hi),
        )
        y_ticks = [t for t in texts["ticks"] if t]
        assert len(y_ticks) >= 4, (lo, hi, texts)  # >= 2 on y, plus the x ticks
        assert not any("e-16" in t and lo > 1e-10 for t in y_ticks), (lo, hi, y_ticks)
        assert texts["px"] >= 11.5, texts  # 12 px text, not shrunk to 7 px on a phone


def test_pooling_in_chinese_explains_a_failed_claim(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    wait_pool_ready(live_server)
    page = browser_page
    sign_up(page, "demo-zh-pool")
    page.goto("/settings")
    page.select_option("#language", "zh")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".notice.ok")).to_have_text("已保存。")
    page.goto("/demos/pooling")
    panel = page.locator(".demo-panel")
    expect(panel.locator('label[for$="-mode"]')).to_have_text("最大池化或平均池化")
    panel.locator('select[data-param="mode"]').select_option("avg")
    panel.locator("button.demo-run").click()
    expect(panel).to_have_attribute("data-state", "succeeded", timeout=60_000)
    expect(panel.locator(".demo-summary")).to_contain_text("avg 池化")
    one_input = panel.locator('li.demo-claim[data-claim="gradient-goes-to-one-input-per-window"]')
    expect(one_input).to_have_attribute("data-passed", "false")
    expect(one_input.locator(".demo-claim-why")).to_contain_text("mode 为 max")
    chart = panel.locator("figure.demo-figure").first
    expect(chart.locator("figcaption")).to_contain_text("一行输入上的梯度")
    expect(chart.locator("svg.demo-chart")).to_contain_text("输入列")
