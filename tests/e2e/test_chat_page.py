"""The chat page in a real browser (Debian's headless Chromium through Playwright): ask, watch the
streamed answer arrive with citations, open one, and keep a screenshot."""

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).parents[2] / "eval" / "reports" / "chat_page.png"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def page(live_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(live_server + "/")
        yield page
        browser.close()


def test_ask_see_cited_answer_and_open_the_cited_span(page):
    page.fill("#question", "長沙簽約了多少個重點產業轉移合作項目？")
    page.click("#send")
    answer = page.locator(".turn .answer").first
    citations = page.locator(".turn ol.citations li")
    citations.first.wait_for()
    assert "16個" in answer.inner_text()
    assert "16" in answer.locator("strong").inner_text()  # the short answer, in bold in its sentence
    assert citations.count() == 5
    source = page.locator(".turn ol.citations li.source")
    assert source.count() == 1 and "· answer" in source.inner_text()

    source.locator("button").click()
    mark = source.locator(".passage mark")
    mark.wait_for()
    assert "16個" in mark.inner_text()  # the quoted sentence, highlighted, in Traditional script
    assert ".txt · characters" in source.locator(".where").inner_text()
    assert source.locator(".passage .context").first.inner_text()  # with text around it
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000


def test_abstention_is_shown_as_such(page):
    page.fill("#question", "What is the weather in Paris tomorrow?")
    page.click("#send")
    page.locator(".turn .answer.abstained").first.wait_for()
    assert "do not answer" in page.locator(".turn .answer").first.inner_text()
    assert "do not answer the question" in page.locator(".turn .note").first.inner_text()  # the closest passages, labelled
    assert page.locator(".turn ol.citations li").count() > 0
