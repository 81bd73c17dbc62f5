"""The pages in real headless Chromium (Debian's /usr/bin/chromium) against a live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.api.conftest import ADMIN_KEY, identity

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Screenshots go to a temporary folder; `make screenshots` points this at docs/ to
# regenerate the README's pictures from the current build.
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS_DIR")


def shot(tmp_path: Path, name: str) -> str:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make chromium` (Debian's package)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _until(page: Page, held: list, seconds: float = 10.0) -> None:
    """Wait until a routed request is held (failing, not hanging, when none comes)."""
    for _ in range(int(seconds * 50)):
        if held:
            return
        page.wait_for_timeout(20)
    raise AssertionError("the page sent no request to hold")


def _page(browser: Browser, width: int = 1280, height: int = 860) -> Page:
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    return page


def _ask_in_widget(page: Page, server: str, question: str) -> None:
    page.goto(f"{server}/widget")
    picker = page.get_by_label("Customer", exact=True)
    expect(picker.locator("option[value='olivia_ito_3591']")).to_have_count(1)
    picker.select_option("olivia_ito_3591")
    expect(page.get_by_role("status")).to_contain_text("Signed in as Olivia Ito")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("Your message").fill(question)
    page.keyboard.press("Enter")


def test_customer_asks_in_the_widget_and_sees_a_streamed_cited_answer(
    browser, live_server, tmp_path
):
    page = _page(browser)
    _ask_in_widget(page, live_server, "What is the status of my order #W5442520? Can I cancel it?")
    reply = page.locator(".rw-assistant").last
    expect(reply).not_to_have_attribute("aria-busy", "true")
    expect(reply.locator(".rw-text")).to_contain_text("#W5442520")
    expect(reply.locator(".rw-text")).to_contain_text("you can still cancel it")
    # markers are numbered from 1 in order of use; a click opens the source's passage
    cite = reply.locator("button.rw-cite").first
    expect(cite).to_have_text("[1]")
    expect(reply.locator(".rw-sources summary").first).to_have_text("Order #W5442520")
    assert reply.locator("details").first.get_attribute("open") is None
    cite.click()
    expect(reply.locator("details").first).to_have_attribute("open", "")
    expect(reply.locator(".rw-passage").first).to_contain_text("#W5442520")
    fb = reply.locator(".rw-feedback")
    expect(fb.get_by_role("button", name="Helpful", exact=True)).to_have_text("Yes")
    reply.get_by_role("button", name="Helpful", exact=True).click()
    expect(reply.locator(".rw-feedback")).to_have_text("Thanks for your feedback.")
    page.screenshot(path=shot(tmp_path, "widget.png"))


def test_widget_offers_a_human_at_any_time_and_fits_a_phone(browser, live_server):
    page = _page(browser, 390, 780)
    _ask_in_widget(page, live_server, "what is your return policy?")
    expect(page.locator(".rw-assistant").last).not_to_have_attribute("aria-busy", "true")
    human = page.get_by_role("button", name="Talk to a human")
    expect(human).to_be_visible()  # before any handoff
    human.click()
    expect(page.locator(".rw-status")).to_contain_text("A person from our team will answer")
    box = page.locator(".rw-panel").bounding_box()
    assert box is not None and box["width"] <= 390


def test_agent_sees_card_drafts_and_actions(browser, live_server, tmp_path):
    import httpx

    httpx.post(
        f"{live_server}/v1/chat",
        json={**identity("olivia_ito_3591"), "message": "Can I cancel my order #W5442520?"},
        timeout=60,
    ).raise_for_status()
    page = _page(browser)
    page.goto(f"{live_server}/agent")
    item = page.get_by_role("button", name="Olivia Ito")
    item.first.click()
    detail = page.locator("#assist")
    expect(detail).to_contain_text("olivia_ito_3591")
    expect(detail).to_contain_text("Order #W5442520 (Gaming Mouse, Patio Umbrella, Hiking Boots)")
    expect(detail).to_contain_text("cancel #W5442520")
    # Segments on the card; the decision trace names the rules and their inputs.
    expect(page.get_by_label("Segments")).to_contain_text("vip")
    page.get_by_text("Decision trace").click()
    expect(detail).to_contain_text('guard.named_records_only (named_records=["order:#W5442520"')
    page.get_by_role("button", name="Use draft 2").click()
    expect(page.get_by_label("Reply to the customer")).to_have_value(
        "Hi Olivia, thanks for reaching out. I can help you cancel your order #W5442520. "
        "Could you confirm that you'd like me to go ahead?"
    )
    page.screenshot(path=shot(tmp_path, "agent.png"), full_page=True)
    # the business's own attributes of a customer are on their card
    ana = {
        "first_name": "Ana",
        "last_name": "Lima",
        "attributes": {"loyalty_tier": "gold", "member_since": "2019"},
        "consents": {"personalization": True, "history": True},
    }
    httpx.put(
        f"{live_server}/v1/admin/customers/ana_lima_0001",
        json=ana,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    ).raise_for_status()
    httpx.post(
        f"{live_server}/v1/chat",
        json={**identity("ana_lima_0001"), "message": "hi, a question about my membership"},
        timeout=60,
    ).raise_for_status()
    page.goto(f"{live_server}/agent")
    page.get_by_role("button", name="Ana Lima").first.click()
    expect(page.get_by_label("Attributes")).to_have_text("loyalty tier: gold · member since: 2019")


def test_customer_asks_for_a_human_and_an_agent_answers_live(browser, live_server):
    """Two pages: the customer's widget and the agent inbox, each live."""
    _handoff_flow(browser, live_server, live_server)


@pytest.mark.scaleout
def test_the_handoff_works_with_the_widget_and_the_inbox_on_two_workers(
    browser, make_container, embedder
):
    """The widget on one API worker, the agent inbox on another: events cross through
    Redis (and, in the scale-out pass, PostgreSQL and a `chroma run` server)."""
    from assistant.wiring import Container
    from tests.api.conftest import SETTINGS
    from tests.api.test_inbox import REDIS_URL, serve

    first = make_container(**SETTINGS, redis_url=REDIS_URL)
    second = Container(first.settings, shared_embedder=embedder)
    with serve(first) as widget_server, serve(second) as agent_server:
        _handoff_flow(browser, widget_server, agent_server)


def _handoff_flow(browser, widget_server: str, agent_server: str) -> None:
    customer = _page(browser)
    _ask_in_widget(customer, widget_server, "I need to talk to a real person about my order")
    expect(customer.locator(".rw-status")).to_contain_text("will answer here")

    desk = _page(browser)
    desk.goto(f"{agent_server}/agent")
    first = desk.locator("#queue-list button").first
    expect(first).to_contain_text("Olivia Ito")
    expect(first).to_contain_text("waiting")
    first.click()
    expect(desk.locator("#transcript")).to_contain_text("talk to a real person")
    # the sidebar lists a few records of each kind, and says what it leaves out
    expect(desk.get_by_label("Records not shown")).to_contain_text(
        "2 more orders, 8 more order lines"
    )
    # The agent takes a draft while the take-over is still on its way: the draft stays in
    # the box and is sent as drafted (the page once re-opened the conversation on the
    # answer and lost both).
    held = []
    desk.route("**/assign", lambda route: held.append(route))
    desk.get_by_role("button", name="Take over").click()
    _until(desk, held)
    desk.get_by_role("button", name="Use draft 1").click()
    box = desk.get_by_label("Reply to the customer")
    expect(box).not_to_have_value("")
    drafted = box.input_value()
    held[0].continue_()
    expect(desk.locator(".conv-head")).to_contain_text("with you")
    expect(customer.locator(".rw-status")).to_contain_text("is answering you")
    expect(box).to_have_value(drafted)

    box.fill("Hi Olivia, Agent here. " + drafted)
    with desk.expect_request(lambda r: r.url.endswith("/messages")) as sent:
        box.press("Control+Enter")
    assert sent.value.post_data_json["draft"]["index"] == 0
    agent_msg = customer.locator(".rw-agent").last
    expect(agent_msg).to_contain_text("Hi Olivia, Agent here.")

    customer.get_by_label("Your message").fill("thanks! it is order #W5442520")
    customer.keyboard.press("Enter")
    expect(desk.locator("#transcript")).to_contain_text("thanks! it is order #W5442520")
    # the bot stayed quiet while the agent held the conversation
    expect(customer.locator(".rw-assistant")).to_have_count(1)


def test_an_oversized_message_keeps_the_text_and_says_the_limit(browser, live_server):
    page = _page(browser)
    long_text = "my order " * 80  # over the test server's 500 characters
    _ask_in_widget(page, live_server, long_text)
    note = page.locator(".rw-system").last
    expect(note).to_contain_text("too long")
    expect(note).to_contain_text("500")
    expect(page.get_by_label("Your message")).to_have_value(long_text.strip())


def test_a_reply_keeps_its_line_breaks_on_a_phone(browser, live_server):
    page = _page(browser, 390, 844)
    _ask_in_widget(page, live_server, "Can I cancel my order #W5442520?")
    text = page.locator(".rw-assistant .rw-text").last
    expect(text).to_contain_text("#W5442520")
    assert text.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    lines = text.inner_text().split("\n")
    assert lines[0].startswith("Hi Olivia") and "#W5442520" in lines[1]


def test_a_card_number_typed_leaves_the_customers_own_bubble(browser, live_server):
    page = _page(browser, 390, 844)
    _ask_in_widget(page, live_server, "can u cancel #W5442520? card 4111 1111 1111 1111 cvv 123")
    reply = page.locator(".rw-assistant").last
    expect(reply.locator(".rw-text")).to_contain_text("never send card numbers")
    mine = page.locator(".rw-customer .rw-text").last
    expect(mine).to_contain_text("card number removed, ending 1111")
    expect(mine).not_to_contain_text("4111 1111")
    text = reply.locator(".rw-text").inner_text()
    assert text.count("$663.85") == 1  # the cancel says where the money goes, once


def test_the_second_business_has_its_own_widget_customers_answers_and_queue(
    browser, live_server, make_container
):
    from assistant.wiring import Workspaces
    from profiles.admin import CustomerIn, upsert_customer
    from profiles.workspaces import Registry, keep_demo_keys
    from retrieval.documents import Document
    from tests.api.conftest import SETTINGS

    # The bank appears beside the running store, as `rapport demo` makes it.
    c = make_container(**SETTINGS)
    made = Registry(c.settings.data_dir).create(
        "bank", brand="Rapport Bank", description="a retail bank"
    )
    assert made is not None
    keep_demo_keys(made.workspace.folder, {"agent": made.agent_key})
    bank = Workspaces(c).get("bank")
    consents = {"personalization": True, "history": True}
    upsert_customer(
        bank.engine, "123", CustomerIn(first_name="Mia", last_name="Smith", consents=consents)
    )
    text = "A domestic wire transfer costs 20 dollars and arrives the same day."
    bank.kb.ingest([Document(id="wires", title="Wire transfers", text=text)])
    bank.engine.dispose()

    page = _page(browser)
    # The store's customer list (asked for on load) answers after the bank's: the picker
    # keeps the business picked last (a slow list once filled the bank's picker).
    held = []
    page.route(
        lambda url: url.endswith("/demo/customers?workspace=default"), lambda r: held.append(r)
    )
    page.goto(f"{live_server}/widget")
    _until(page, held)
    page.get_by_label("Business").select_option("bank")
    expect(page.locator("#store-title")).to_have_text("Rapport Bank")
    # the store's product tiles are the store's: the bank says what it is instead
    expect(page.get_by_role("region", name="Featured products")).to_be_hidden()
    expect(page.locator("#business-description")).to_have_text("Rapport Bank: a retail bank.")
    picker = page.get_by_label("Customer", exact=True)
    expect(picker.locator("option[value='123']")).to_have_count(1)
    with page.expect_response(lambda r: r.url.endswith("?workspace=default")) as late:
        held[0].continue_()
    late.value.finished()
    page.wait_for_timeout(300)  # the page reads the late list, and must drop it
    assert picker.locator("option[value='123']").count() == 1
    expect(picker.locator("option[value='olivia_ito_3591']")).to_have_count(0)
    picker.select_option("123")
    expect(page.get_by_role("status")).to_contain_text("Signed in as Mia Smith")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("Your message").fill("how much is a wire transfer?")
    page.keyboard.press("Enter")
    reply = page.locator(".rw-assistant").last
    expect(reply).not_to_have_attribute("aria-busy", "true")
    expect(reply.locator(".rw-text")).to_contain_text("20 dollars")
    expect(reply.locator(".rw-text")).to_contain_text("Mia")
    expect(reply.locator(".rw-sources summary").first).to_have_text("Wire transfers")
    # asked in Spanish, the widget's own words follow the reply's language
    page.get_by_label("Your message").fill("¿y cuánto tarda una transferencia nacional?")
    page.keyboard.press("Enter")
    reply = page.locator(".rw-assistant").last
    expect(reply).not_to_have_attribute("aria-busy", "true")
    expect(reply.locator(".rw-feedback")).to_contain_text("¿Te ha servido?")
    expect(page.get_by_label("Tu mensaje")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()

    desk = _page(browser)
    # the store's queue (asked for on load) answers after the bank's: the bank's stays
    queued = []
    desk.route("**/v1/agent/inbox*", lambda r: queued.append(r) if not queued else r.continue_())
    desk.goto(f"{live_server}/agent")
    _until(desk, queued)
    desk.get_by_label("Business").select_option("bank")
    expect(desk.get_by_role("button", name="Mia Smith")).to_have_count(1)
    with desk.expect_response(lambda r: "/v1/agent/inbox" in r.url) as late:
        queued[0].continue_()
    late.value.finished()
    desk.wait_for_timeout(300)  # the page reads the late queue, and must drop it
    assert desk.get_by_role("button", name="Mia Smith").count() == 1  # now, not on a refresh
    expect(desk.locator("#queue-status")).to_contain_text("1 conversations")
    # no risk flag reads "None", quietly: not in the flags' red
    desk.get_by_role("button", name="Mia Smith").click()
    flags = desk.get_by_label("Risk flags")
    expect(flags).to_have_text("None")
    expect(flags.locator("li")).not_to_have_css("color", "rgb(180, 35, 24)")
    # a bank's customer who holds nothing has no records, not "Recent orders"
    expect(desk.locator("#assist h3")).to_have_text(["Records"])
    # an agent who types the bank's key sees the bank named above its queue
    typed = _page(browser)
    typed.goto(f"{live_server}/agent")
    expect(typed.get_by_label("Business")).to_have_value("default")
    typed.get_by_label("Agent API key").fill(made.agent_key)
    typed.get_by_role("button", name="Connect").click()
    expect(typed.get_by_role("button", name="Mia Smith")).to_have_count(1)
    expect(typed.get_by_label("Business")).to_have_value("bank")
