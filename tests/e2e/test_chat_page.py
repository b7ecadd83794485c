"""The chat page in a real browser (Debian's headless Chromium through Playwright), against the live
server: a conversation with follow-ups that carry their history, the short answer and its quoted
sentence, citation cards, copying, themes, phone width, the keyboard, the interface's language, and
the error paths. Saves the screenshots the README shows (docs/screenshots/)."""

import json
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).parents[2]
SHOTS = ROOT / "docs" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"]
DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 375, "height": 812}

CHANGSHA_ZH = "長沙簽約了多少個重點產業轉移合作項目？"
CHANGSHA_EN = "How many projects were signed in Changsha?"
WEATHER = "What is the weather in Paris tomorrow?"

# Interactive elements on screen smaller than a 40 px tap target.
SMALL_TARGETS = """() => [...document.querySelectorAll('button, summary, input, a[href]')]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map((e) => { const r = e.getBoundingClientRect(); return {what: e.id || e.className || e.tagName, w: r.width, h: r.height}; })
  .filter((r) => r.w < 40 || r.h < 40)"""
BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"


@pytest.fixture(scope="module")
def browser(live_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """Opens the page in a fresh context; the page's chat requests' JSON bodies collect in page.sent.
    No script error may happen on any page."""
    contexts, errors = [], []

    def open_(viewport=DESKTOP, color_scheme="light", locale="en-US", phone=False):
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme, locale=locale, is_mobile=phone, has_touch=phone)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.sent = []
        page.on("pageerror", lambda error: errors.append(error))
        page.on("request", lambda r: page.sent.append(json.loads(r.post_data)) if r.url.endswith("/v1/chat/completions") else None)
        page.goto(live_server + "/")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == []


def ask(page, question, keyboard=False):
    """Asks in the composer (Enter sends) and returns the turn once its answer is complete."""
    done = page.locator(".turn[data-state]").count()
    if keyboard:
        page.keyboard.type(question)
        page.keyboard.press("Enter")
    else:
        page.fill("#question", question)
        page.press("#question", "Enter")
    turn = page.locator(".turn[data-state]").nth(done)
    turn.wait_for()
    return turn


def shoot(page, name, full_page=True):
    """A screenshot for the README: no hover left by the last click, transitions finished; a full
    page from the top (where the sticky header is)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.mouse.move(1, 1)
    viewport = page.viewport_size
    if full_page:  # a screen as tall as the page, so the fixed composer sits at its bottom
        page.evaluate("window.scrollTo(0, 0)")
        page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], page.evaluate("document.documentElement.scrollHeight"))})
    page.screenshot(path=str(path), animations="disabled")
    page.set_viewport_size(viewport)
    assert path.stat().st_size > 10_000, path
    return path


def no_horizontal_scroll(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.body.scrollWidth") <= width


def test_a_conversation_in_traditional_chinese(open_page):
    page = open_page(locale="en-US")
    assert page.locator("h1").inner_text() == "Ask the news"  # English until an answer says otherwise
    assert page.locator("#welcome").is_visible()

    for _ in range(12):  # the keyboard alone reaches the question box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "question":
            break
    assert page.evaluate("document.activeElement.id") == "question"
    first = ask(page, CHANGSHA_ZH, keyboard=True)
    assert first.get_attribute("data-state") == "answered"
    assert not page.locator("#welcome").is_visible()
    assert page.sent[-1] == {"messages": [{"role": "user", "content": CHANGSHA_ZH}], "stream": True}

    # The short answer as a headline, the quoted sentence beneath with it in bold.
    assert first.locator(".headline strong").inner_text() == "16個"
    sentence = first.locator(".sentence")
    assert "16個重點產業轉移合作項目" in sentence.inner_text()
    assert sentence.locator("strong").inner_text() == "16個"
    assert sentence.locator(".ref").first.inner_text() == "1"

    # The interface now speaks Traditional Chinese, like the answer.
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    assert page.locator("h1").inner_text() == "問新聞"
    assert page.get_attribute("#question", "placeholder") == "用中文或英文提問"
    assert page.get_attribute("#send", "aria-label") == "提問"
    assert page.locator("#new-chat").inner_text().strip() == "新對話"

    # Five cards, each with a headline and one character range; the answer's own card marked.
    cards = first.locator("ol.cards > li.card")
    assert cards.count() == 5
    for i in range(5):
        card = cards.nth(i)
        assert card.locator(".card-title").inner_text().strip()
        assert card.locator(".card-range").count() == 1
        assert card.locator(".num").inner_text() == str(i + 1)
        assert ".txt" not in card.locator(".card-title").inner_text()  # a headline, not the file name
    source = first.locator("li.card.source")
    assert source.count() == 1 and source.get_attribute("data-rank") == "1"
    assert source.locator(".badge").inner_text() == "答案出處"
    assert source.locator(".card-range").inner_text() == "001_e07e39b34995dd8d.txt · 字元 2499–2694"
    assert source.locator(".card-title").inner_text() == "一帶一路湘聚共贏"  # in the reader's script
    assert source.locator(".card-meta").inner_text() == "湖南日報"

    # Opened, the answer's card shows its paragraph with the quoted sentence highlighted.
    head = source.locator(".card-head")
    assert head.get_attribute("aria-expanded") == "false"
    head.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # a visible focus ring
    page.keyboard.press("Enter")
    mark = source.locator(".passage mark")
    mark.wait_for()
    assert head.get_attribute("aria-expanded") == "true"
    assert "開幕式上，16個重點產業轉移合作項目現場簽約" in mark.inner_text()  # Traditional script
    assert mark.locator("strong").inner_text() == "16個"
    assert source.locator(".passage .context").first.inner_text().strip()  # with its paragraph around it
    assert source.locator(".card-range").count() == 1  # still one range: the passage adds none
    page.keyboard.press("Escape")
    assert head.get_attribute("aria-expanded") == "false" and not source.locator(".card-body").is_visible()
    assert page.evaluate("document.activeElement.classList.contains('card-head')")

    other = cards.nth(1)
    other.locator(".card-head").click()
    assert "16個重點產業轉移" in other.locator(".card-body .passage").inner_text()  # its display_text
    other.locator(".card-head").click()
    assert other.locator(".card-head").get_attribute("aria-expanded") == "false"

    # Copy: the answer and its numbered sources, as plain text, with a visible confirmation.
    first.locator("button.copy").click()
    page.wait_for_function("document.querySelector('.turn button.copy').innerText.includes('已複製')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "16個重點產業轉移合作項目" in copied.splitlines()[0] and copied.splitlines()[0].endswith("[1]")
    assert "來源：" in copied and "\n[1] " in copied and "\n[5] " in copied
    assert "001_e07e39b34995dd8d.txt, 字元 2499–2694" in copied

    head.click()
    mark.wait_for()
    shoot(page, "desktop-light-answer.png")

    # A follow-up sends the whole conversation: the question, the answer shown, the new question.
    followup = ask(page, "海口呢？")
    sent = page.sent[-1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == CHANGSHA_ZH and sent[2]["content"] == "海口呢？"
    answer_shown = sent[1]["content"]
    assert "16個重點產業轉移合作項目" in answer_shown and answer_shown.replace(" [1]", "\xa01") == sentence.inner_text()
    assert followup.get_attribute("data-state") in {"answered", "abstained"}
    assert followup.locator(".resolved").inner_text().startswith("理解為：海口")  # the question as the server understood it
    assert followup.locator(".headline strong").inner_text() == "57個"
    assert page.locator(".turn").last.bounding_box()["y"] > first.bounding_box()["y"]  # newest at the bottom

    # The theme toggle darkens the page and is remembered.
    light = page.evaluate(BACKGROUND)
    assert page.get_attribute("#theme", "aria-label") == "切換到深色主題"
    page.click("#theme")
    dark = page.evaluate(BACKGROUND)
    assert dark != light and sum(map(int, dark[dark.index("(") + 1 : -1].split(",")[:3])) < 150
    assert page.evaluate("localStorage.getItem('rag-theme')") == "dark"
    followup.evaluate("turn => turn.scrollIntoView({block: 'start'})")
    shoot(page, "desktop-dark-followup.png", full_page=False)
    page.reload()
    assert page.evaluate(BACKGROUND) == dark and page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.click("#theme")
    assert page.evaluate(BACKGROUND) == light


def test_an_english_follow_up_is_understood_and_a_new_conversation_forgets(open_page):
    page = open_page(locale="en-GB")
    first = ask(page, CHANGSHA_EN)
    assert first.get_attribute("data-state") == "answered"
    assert page.evaluate("document.documentElement.lang") == "en"  # an English question: the interface stays English
    assert "16" in first.locator(".headline strong").inner_text()
    assert first.locator(".resolved").count() == 0  # nothing to resolve in a complete question

    second = ask(page, "And in Hengyang?")
    sent = page.sent[-1]["messages"]
    assert [(m["role"], m["content"]) for m in sent[::2]] == [("user", CHANGSHA_EN), ("user", "And in Hengyang?")]
    assert sent[1]["role"] == "assistant" and "16" in sent[1]["content"]
    resolved = second.locator(".resolved").inner_text()
    assert resolved.startswith("Understood as: ") and "Hengyang" in resolved

    page.click("#new-chat")
    assert page.locator(".turn").count() == 0 and page.locator("#welcome").is_visible()
    assert page.evaluate("document.activeElement.id") == "question"
    page.locator(".example").nth(1).click()  # the examples ask at a click
    page.locator(".turn[data-state]").first.wait_for()
    assert len(page.sent[-1]["messages"]) == 1  # the new conversation has no history


def test_phone_light_abstention(open_page):
    page = open_page(viewport=PHONE, locale="en-US", phone=True)
    no_horizontal_scroll(page, 375)
    assert page.evaluate(SMALL_TARGETS) == []
    turn = ask(page, WEATHER)
    assert turn.get_attribute("data-state") == "abstained"
    answer = turn.locator(".answer.abstained")
    assert "do not answer" in answer.inner_text()
    assert turn.locator(".card").count() == 0 and turn.locator(".sources-label").count() == 0  # no citation cards
    assert turn.locator("button.copy").count() == 0
    closest = turn.locator("details.closest")
    assert closest.count() == 1 and closest.get_attribute("open") is None
    assert "do not answer the question" in closest.locator("summary").inner_text()
    no_horizontal_scroll(page, 375)
    assert page.evaluate(SMALL_TARGETS) == []
    # the composer stays at the bottom of the screen
    box = page.locator("#ask").bounding_box()
    assert 812 - 100 < box["y"] + box["height"] <= 812
    shoot(page, "phone-light-abstention.png")
    closest.locator("summary").click()
    assert closest.locator("li").count() >= 1 and closest.locator("summary").get_attribute("aria-expanded") == "true"
    no_horizontal_scroll(page, 375)


def test_phone_dark_answer_follows_the_system_theme(open_page):
    page = open_page(viewport=PHONE, color_scheme="dark", locale="zh-CN", phone=True)
    assert page.locator("h1").inner_text() == "问新闻"  # Simplified, from the browser's language
    background = page.evaluate(BACKGROUND)
    assert sum(map(int, background[background.index("(") + 1 : -1].split(",")[:3])) < 150  # dark, untouched
    assert page.get_attribute("#theme", "aria-label") == "切换到浅色主题"
    turn = ask(page, CHANGSHA_ZH)
    assert page.locator("h1").inner_text() == "問新聞"  # the answer is in Traditional script: so is the interface
    source = turn.locator("li.card.source")
    source.locator(".card-head").click()
    source.locator(".passage mark").wait_for()
    no_horizontal_scroll(page, 375)
    assert page.evaluate(SMALL_TARGETS) == []
    shoot(page, "phone-dark-answer.png")


def events(*chunks):
    return "".join(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n" for chunk in chunks)


def delta(content, finish=None, **extra):
    return {"choices": [{"index": 0, "delta": {"content": content} if content else {}, "finish_reason": finish}], **extra}


CUT_OFF = events(delta(""), delta("3月29日，2025中國"))
CITATION = {"rank": 1, "doc_id": "a.txt", "chunk_id": "a.txt#1", "start": 10, "end": 20, "text": "x", "display_text": "Passage one", "score": 1.0}
DATED = events(
    delta("On 29 March, 16 projects "),
    delta("were signed. [1]"),
    delta(
        None,
        "stop",
        citations=[
            {**CITATION, "title": "Hunan draws industry", "source": "Hunan Daily", "date": "2025-03-29"},
            {**CITATION, "rank": 2, "doc_id": "b.txt", "start": 5, "end": 9, "display_text": "Passage two"},  # no title: the file name
        ],
        abstained=False,
        answer_span={"text": "16 projects", "start": 12, "end": 14},
        script="en",
        resolved_question="How many projects were signed in Changsha on 29 March?",
        generation={"mode": "extractive", "note": "the language model did not answer in time; this answer is quoted"},
    ),
) + "data: [DONE]\n\n"


def test_errors_the_api_key_a_cut_off_answer_and_optional_fields(open_page):
    """With the server's replies faked: its error bodies are shown; a 401 opens the key box and asks
    again with the key; a stream that ends without its final chunk says the answer was cut off; a
    citation's source and date, the resolved question and the generation note are shown and copied."""
    page = open_page()
    seen = []

    def reply(route):
        seen.append(route.request.headers.get("authorization"))
        if len(seen) == 1:
            route.fulfill(status=401, json={"error": {"message": "missing or wrong API key", "type": "auth", "code": "unauthorized"}})
        elif len(seen) == 2:
            route.fulfill(status=200, body=CUT_OFF, headers={"Content-Type": "text/event-stream"})
        elif len(seen) == 3:
            route.fulfill(status=422, json={"error": {"message": "the question is over 2,000 characters", "type": "invalid_request_error"}})
        else:
            route.fulfill(status=200, body=DATED, headers={"Content-Type": "text/event-stream"})

    page.route("**/v1/chat/completions", reply)
    turn = ask(page, "長沙？")
    assert turn.get_attribute("data-state") == "error"
    assert "missing or wrong API key" in turn.locator(".error").inner_text()
    assert page.locator("#access").get_attribute("open") is not None
    assert page.evaluate("document.activeElement.id") == "api-key"
    page.keyboard.type("s3cret")
    page.keyboard.press("Enter")  # the key is kept for the tab and the question asked again with it
    page.wait_for_function("document.querySelector('.turn[data-state]')?.dataset.state === 'cut-off'")
    retried = page.locator(".turn[data-state]").last
    assert seen == [None, "Bearer s3cret"]
    assert page.evaluate("sessionStorage.getItem('rag-api-key')") == "s3cret"
    assert "the answer was cut off" in retried.inner_text() and "2025中國" in retried.inner_text()

    turn = ask(page, "x" * 30)
    assert "the question is over 2,000 characters" in turn.locator(".error").inner_text()
    assert page.sent[-1]["messages"] == [{"role": "user", "content": "x" * 30}]  # failed turns are not history

    turn = ask(page, "And on the 29th?")
    assert turn.locator(".resolved").inner_text() == "Understood as: How many projects were signed in Changsha on 29 March?"
    assert turn.locator(".headline").inner_text() == "16 projects"
    assert "did not answer in time" in turn.locator(".note").inner_text()
    cards = turn.locator("li.card")
    assert cards.nth(0).locator(".card-title").inner_text() == "Hunan draws industry"
    assert cards.nth(0).locator(".card-meta").inner_text() == "Hunan Daily · Mar 29, 2025"
    assert cards.nth(0).locator(".card-range").inner_text() == "a.txt · chars 10–20"
    assert cards.nth(1).locator(".card-title").inner_text() == "b.txt" and cards.nth(1).locator(".card-meta").count() == 0
    assert cards.nth(1).locator(".card-range").inner_text() == "chars 5–9"
    assert turn.locator("li.card.source").count() == 0  # no answer_source: no card is marked
    turn.locator("button.copy").click()
    turn.locator("button.copy.done").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == (
        "On 29 March, 16 projects were signed. [1]\n\nSources:\n"
        "[1] Hunan draws industry · Hunan Daily · 2025-03-29 — a.txt, chars 10–20\n"
        "[2] b.txt, chars 5–9"
    )
