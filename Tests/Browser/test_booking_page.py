"""Drives the booking web page in headless Chromium against a live booking-server.

Run through scripts/browser-test, which builds the server and installs Chromium and Selenium.
Screenshots go to artifacts/ (desktop and 375 px mobile). Any browser console error a test did not
provoke on purpose (a 404 for an icon, a script error) fails that test.
"""
import json
import pathlib
import re
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
sys.path.insert(0, str(ROOT / "Tests" / "PythonSupport"))
from booking_server import ADMIN_TOKEN, call, start_server  # noqa: E402


# Two resources for the resource picker: the second has 45-minute slots in another zone.
RESOURCES = {"resources": [
    {"id": "room-a", "name": "Room A", "timeZone": "Europe/London"},
    {"id": "dr-lee", "name": "Dr. Lee", "timeZone": "Asia/Tokyo", "hours": "daily=08:00-20:00", "slotMinutes": 45},
]}


@pytest.fixture(scope="module")
def server():
    yield from start_server("--time-zone", "Europe/London")


@pytest.fixture(scope="module")
def two_resources():
    with tempfile.TemporaryDirectory(prefix="booking-resources-") as directory:
        path = pathlib.Path(directory) / "resources.json"
        path.write_text(json.dumps(RESOURCES))
        yield from start_server("--config", str(path))


@pytest.fixture(scope="module")
def seats():
    yield from start_server("--time-zone", "Europe/London", "--capacity", "3")


@pytest.fixture(scope="module")
def short_holds():
    yield from start_server("--time-zone", "Europe/London", "--hold-minutes", "1")


# Where "Add to calendar" saves its files, for every browser of the run; removed when the run ends.
DOWNLOADS = tempfile.TemporaryDirectory(prefix="booking-downloads-")


def new_browser(zone=None):
    """A headless Chromium of its own: a visitor with their own page state (in the IANA `zone` when given)."""
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-GB"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    # "Add to calendar" downloads a file: into a temporary directory, without asking.
    options.add_experimental_option("prefs", {
        "download.default_directory": DOWNLOADS.name, "download.prompt_for_download": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)  # fails, never skips, when Chromium cannot start
    if zone:
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": zone})
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


class Console:
    """The browser console's errors: a test allows the ones it provokes on purpose; any other fails it."""

    def __init__(self, driver):
        self.driver = driver
        self.allowed = []

    def allow(self, path, status):
        """Allows the console error Chromium logs for a response of `status` to a request for `path`."""
        self.allowed.append(f"{path} - Failed to load resource: the server responded with a status of {status} ")

    def unexpected(self):
        entries = self.driver.get_log("browser")
        return [entry["message"] for entry in entries
                if entry["level"] == "SEVERE" and not any(allowed in entry["message"] for allowed in self.allowed)]


@pytest.fixture(autouse=True)
def console(browser):
    browser.get_log("browser")  # what earlier tests left behind
    watcher = Console(browser)
    yield watcher
    time.sleep(0.2)  # lets the last responses reach the log
    errors = watcher.unexpected()
    assert not errors, f"browser console errors the test did not provoke: {errors}"


def wait(driver, condition, timeout=10):
    # The page re-renders lists, so elements found a moment ago may be gone: look again.
    ignored = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def slot_buttons(driver):
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#availability .slot")))
    return driver.find_elements(By.CSS_SELECTOR, "#availability .slot")


def status_text(driver):
    return driver.find_element(By.ID, "status").text


def fill(driver, name, email, note=""):
    for field, value in [("name", name), ("email", email), ("note", note)]:
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)


def minutes(slot_button):
    start, end = (datetime.fromisoformat(slot_button.get_attribute(name)) for name in ("data-start", "data-end"))
    return (end - start).total_seconds() / 60


def test_console_errors_are_seen(server, browser, console):
    # Proves the watcher is not blind: without goog:loggingPrefs every check below would pass vacuously.
    browser.get(server + "/")
    slot_buttons(browser)
    browser.execute_script("console.error('deliberate console error')")
    assert any("deliberate console error" in message for message in console.unexpected())


def test_booking_flow(server, browser, console):
    console.allow("/api/appointments", 400)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(server + "/")
    buttons = slot_buttons(browser)
    assert len(buttons) > 10
    assert not browser.find_element(By.ID, "resource-picker").is_displayed(), "one resource: no picker"
    assert "Europe/London" in browser.find_element(By.ID, "zone-note").text or "Times are shown in" in browser.find_element(By.ID, "zone-note").text
    browser.save_screenshot(str(ARTIFACTS / "page-desktop.png"))

    # The second slot: the first may start within seconds, and once it has begun its hold is refused (422), as it
    # should be, which this test is not about.
    first = buttons[1]
    start = first.get_attribute("data-start")
    first.click()
    fill(browser, "Ada Lovelace", "not-an-email")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: d.find_element(By.ID, "email-error").text != "")
    assert "email" in browser.find_element(By.ID, "email-error").text.lower()
    assert browser.find_element(By.ID, "email").get_attribute("aria-invalid") == "true"

    fill(browser, "Ada Lovelace", "ada@example.com", "First visit")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    assert "booked" in status_text(browser).lower()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#my-bookings li")) == 1)
    assert not browser.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{start}"]')
    browser.save_screenshot(str(ARTIFACTS / "page-booked-desktop.png"))

    # Add to calendar: the page fetches the file with the token in a header and offers it as a Blob download.
    browser.execute_script("""
        window.calendarBlobs = [];
        const create = URL.createObjectURL;
        URL.createObjectURL = (blob) => { window.calendarBlobs.push(blob); return create.call(URL, blob); };
    """)
    wait(browser, EC.element_to_be_clickable(
        (By.XPATH, '//*[@id="my-bookings"]//li//button[text()="Add to calendar"]'))).click()
    wait(browser, lambda d: d.execute_script("return window.calendarBlobs.length") == 1)
    text = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; window.calendarBlobs[0].text().then(done);")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "METHOD:REQUEST" in text and f"DTSTART:{start[:19].replace('-', '').replace(':', '')}Z" in text
    assert browser.execute_script("return window.calendarBlobs[0].type") == "text/calendar"

    browser.find_element(By.CSS_SELECTOR, "#my-bookings li button.danger").click()
    wait(browser, lambda d: "cancelled" in d.find_element(By.CSS_SELECTOR, "#my-bookings li .badge").text)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{start}"]'))


def test_taken_behind_its_back_shows_409(server, browser, console):
    # Booked by someone else after the page listed it: picking it (which holds it) is a 409.
    console.allow("/api/holds", 409)
    browser.get(server + "/")
    button = slot_buttons(browser)[3]
    start, end = button.get_attribute("data-start"), button.get_attribute("data-end")
    status, _ = call(server, "POST", "/api/appointments", {"slotStart": start, "slotEnd": end, "name": "Someone", "email": "someone@example.com"})
    assert status == 201
    button.click()
    wait(browser, lambda d: "just taken" in status_text(d))
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{start}"]'))
    assert not browser.find_element(By.ID, "hold-status").is_displayed()
    assert browser.find_element(By.ID, "book").get_attribute("disabled") is not None


def free_starts(base, resource=None):
    _, slots = call(base, "GET", "/api/availability" + (f"?resource={resource}" if resource else ""))
    return {slot["start"]: slot["seats_left"] for slot in slots}


def hold_text(driver):
    return driver.find_element(By.ID, "hold-status").text


def slot_button(driver, start):
    return wait(driver, EC.element_to_be_clickable((By.CSS_SELECTOR, f'#availability .slot[data-start="{start}"]')))


def test_a_picked_slot_is_held_for_the_visitor_and_taken_for_everyone_else(server, browser, console):
    other = new_browser()
    try:
        other.get(server + "/")
        browser.get(server + "/")
        buttons = slot_buttons(browser)
        first, second = (buttons[i].get_attribute("data-start") for i in (11, 12))
        slot_buttons(other)  # the second visitor's list, loaded before the picks
        other.get_log("browser")

        # Picking a slot holds it, with a live countdown; picking another gives the first back.
        buttons[11].click()
        wait(browser, lambda d: re.fullmatch(r"Held for you for [45]:\d\d", hold_text(d)))
        assert first not in free_starts(server)
        slot_button(browser, second).click()
        wait(browser, lambda d: second not in free_starts(server))
        wait(browser, lambda d: first in free_starts(server), timeout=5)
        shown = hold_text(browser)
        wait(browser, lambda d: hold_text(d) != shown and hold_text(d).startswith("Held for you for "), timeout=3)
        browser.save_screenshot(str(ARTIFACTS / "page-held-desktop.png"))

        # The second visitor: the held slot is taken for them; picking it from their older list says so, with the wait.
        slot_button(other, second).click()
        wait(other, lambda d: "Someone else is holding that slot" in status_text(d))
        assert "5 minutes" in status_text(other), status_text(other)
        wait(other, lambda d: not d.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{second}"]'))
        assert other.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{first}"]'), "the released slot is offered"
        other_errors = [entry["message"] for entry in other.get_log("browser") if entry["level"] == "SEVERE"
                        and "/api/holds - Failed to load resource: the server responded with a status of 409" not in entry["message"]]
        assert not other_errors, other_errors

        # The holder books with the hold; the countdown goes.
        fill(browser, "Hold Tester", "hold@example.com")
        browser.find_element(By.ID, "book").click()
        wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
        assert not browser.find_element(By.ID, "hold-status").is_displayed()
        assert appointment_named(server, "Hold Tester")["slot_start"] == second
        assert second not in free_starts(server)
    finally:
        other.quit()


def test_a_lapsed_hold_says_so_and_offers_the_slot_again(short_holds, browser, console):
    browser.get(short_holds + "/")
    button = slot_buttons(browser)[2]
    start = button.get_attribute("data-start")
    button.click()
    wait(browser, lambda d: re.fullmatch(r"Held for you for 0:[0-5]\d", hold_text(d)))
    assert start not in free_starts(short_holds)
    wait(browser, lambda d: "lapsed" in status_text(d), timeout=70)
    assert not browser.find_element(By.ID, "hold-status").is_displayed()
    assert browser.find_element(By.ID, "book").get_attribute("disabled") is not None
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{start}"][aria-pressed="false"]'))
    assert start in free_starts(short_holds)


def test_seats_left_and_two_customers_in_one_slot(seats, browser, console):
    console.allow("/api/appointments", 409)
    browser.get(seats + "/")
    button = slot_buttons(browser)[4]
    start = button.get_attribute("data-start")
    assert "3 seats left" in button.text and "3 seats left" in button.get_attribute("aria-label")
    assert all("3 seats left" in b.text for b in slot_buttons(browser))

    button.click()
    wait(browser, lambda d: hold_text(d).startswith("Held for you for "))
    assert free_starts(seats)[start] == 2, "the hold takes one seat for everyone else"
    fill(browser, "First Customer", "first@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    wait(browser, lambda d: "2 seats left" in slot_button(d, start).text)
    browser.save_screenshot(str(ARTIFACTS / "page-seats-desktop.png"))

    # The same slot again: the same email is refused (its own message), another customer gets the second seat.
    slot_button(browser, start).click()
    wait(browser, lambda d: hold_text(d).startswith("Held for you for "))
    fill(browser, "First Customer", "FIRST@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: "already have a booking in that slot" in status_text(d))
    assert hold_text(browser).startswith("Held for you for "), "the seat stays held for another name"
    fill(browser, "Second Customer", "second@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: "Second Customer" not in status_text(d) and d.find_element(By.ID, "confirmation").is_displayed())
    wait(browser, lambda d: "1 seat left" in slot_button(d, start).text)

    _, appointments = call(seats, "GET", "/api/appointments", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    in_slot = sorted(a["customer_name"] for a in appointments if a["slot_start"] == start)
    assert in_slot == ["First Customer", "Second Customer"]
    _, resources = call(seats, "GET", "/api/resources")
    assert [(r["capacity"], r["daily_limit"], r["weekly_limit"]) for r in resources] == [(3, None, None)]


def test_double_click_books_once(server, browser):
    browser.get(server + "/")
    button = slot_buttons(browser)[6]
    start = button.get_attribute("data-start")
    button.click()
    fill(browser, "Double Click", "double@example.com")
    submit = browser.find_element(By.ID, "book")
    browser.execute_script("arguments[0].click(); arguments[0].click();", submit)
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    _, appointments = call(server, "GET", "/api/appointments", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert [a["slot_start"] for a in appointments].count(start) == 1


def test_focus_after_booking_stays_where_a_keyboard_user_is(server, browser, console):
    # Book disables itself while the booking is out, which drops its focus to the page's body. After a booking the
    # focus is on the confirmation (its Cancel button next); after a refusal, on the first free slot.
    browser.get(server + "/")
    slot_buttons(browser)[16].click()
    wait(browser, lambda d: hold_text(d).startswith("Held for you for "))
    fill(browser, "Keyboard User", "keys@example.com")
    browser.find_element(By.ID, "book").send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    assert browser.execute_script("return document.activeElement.id") == "confirmation"

    # A refusal (the server's 409 stood in for by the page's fetch, so nothing else changes).
    browser.get(server + "/")
    slot_buttons(browser)[17].click()
    wait(browser, lambda d: hold_text(d).startswith("Held for you for "))
    browser.execute_script("""
        const real = window.fetch;
        window.fetch = (url, init) => String(url).endsWith("/api/appointments") && init?.method === "POST"
            ? Promise.resolve(new Response(JSON.stringify({ code: "SLOT_UNAVAILABLE", error: "That slot was just taken." }),
                { status: 409, headers: { "Content-Type": "application/problem+json" } }))
            : real(url, init);
    """)
    fill(browser, "Keyboard User", "keys@example.com")
    browser.find_element(By.ID, "book").send_keys(Keys.ENTER)
    wait(browser, lambda d: "just taken" in status_text(d))
    wait(browser, lambda d: d.execute_script("return document.activeElement.classList.contains('slot')"))
    assert browser.execute_script("return document.activeElement === document.querySelector('#availability .slot')")


def test_the_slot_grid_is_one_tab_stop_and_arrow_keys_move_in_it(server, browser, console):
    browser.get(server + "/")
    buttons = slot_buttons(browser)
    stops = lambda d: d.execute_script(
        "return [...document.querySelectorAll('#availability .slot')].filter((b) => b.tabIndex === 0).map((b) => b.dataset.start)")
    active = lambda d: d.execute_script("return document.activeElement.dataset.start ?? document.activeElement.id")
    assert stops(browser) == [buttons[0].get_attribute("data-start")]
    buttons[0].send_keys(Keys.ARROW_RIGHT)
    assert active(browser) == buttons[1].get_attribute("data-start")
    assert stops(browser) == [buttons[1].get_attribute("data-start")]
    # Down goes to the first slot of the day after the active slot's day. That is not always the grid's second day:
    # late in the day's hours today holds one slot, and the right arrow already went on to tomorrow.
    next_day = browser.execute_script("""
        const days = [...document.querySelectorAll('#availability .slots')];
        const day = days.indexOf(document.activeElement.parentElement);
        return days[Math.min(day + 1, days.length - 1)].querySelector('.slot').dataset.start""")
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert active(browser) == next_day
    assert next_day > buttons[1].get_attribute("data-start")
    browser.switch_to.active_element.send_keys(Keys.END)
    assert active(browser) == buttons[-1].get_attribute("data-start")
    browser.switch_to.active_element.send_keys(Keys.HOME)
    assert active(browser) == buttons[0].get_attribute("data-start")
    # One Tab leaves the grid, whatever the number of slots.
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert not browser.execute_script("return document.activeElement.classList.contains('slot')")
    # Picking a slot makes it the grid's stop.
    buttons[5].click()
    wait(browser, lambda d: stops(d) == [buttons[5].get_attribute("data-start")])


def test_double_click_on_a_slot_holds_it_once(server, browser, console):
    # The second click comes while the first hold is on its way: it must not ask for a second hold, which the
    # first would refuse (409 SLOT_HELD, a console error) and lock the visitor out of the slot they picked.
    browser.get(server + "/")
    button = slot_buttons(browser)[14]
    start = button.get_attribute("data-start")
    browser.execute_script("arguments[0].click(); arguments[0].click();", button)
    wait(browser, lambda d: hold_text(d).startswith("Held for you for "))
    time.sleep(0.3)  # a second hold's answer, had one been asked for, has come back by now
    assert "Someone else is holding" not in status_text(browser), status_text(browser)
    assert slot_button(browser, start).get_attribute("aria-pressed") == "true"
    assert start not in free_starts(server)


def test_a_request_that_hangs_gives_up_and_says_so(server):
    # Every request of the page gives up after 15 s: one the network holds for 20 s reads as no answer, in words.
    # A browser of its own, so the emulated network stays with it.
    slow = new_browser()
    try:
        slow.get(server + "/")
        slot_buttons(slow)
        slow.execute_cdp_cmd("Network.enable", {})
        slow.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20000, "downloadThroughput": -1, "uploadThroughput": -1,
        })
        started = time.monotonic()
        slow.find_element(By.ID, "refresh").click()
        wait(slow, lambda d: "did not answer in time" in d.find_element(By.ID, "availability").text, timeout=30)
        assert 14 <= time.monotonic() - started < 20, time.monotonic() - started
    finally:
        slow.quit()


def test_admin_lists_everything(server, browser, console):
    console.allow("/api/appointments", 403)
    console.allow("/api/notifications", 403)
    browser.get(server + "/")
    browser.find_element(By.ID, "tab-admin").click()
    # The admin tab alone: the booking panel (a grid in the style sheet) is hidden, not shown below it.
    assert browser.find_element(By.ID, "panel-admin").is_displayed()
    assert not browser.find_element(By.ID, "panel-book").is_displayed()
    token = browser.find_element(By.ID, "admin-token")
    token.send_keys("wrong-token-wrong-token")
    browser.find_element(By.CSS_SELECTOR, "#admin-form button").click()
    wait(browser, lambda d: "not right" in d.find_element(By.ID, "admin-list").text)
    token.clear()
    token.send_keys(ADMIN_TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#admin-form button").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#admin-list tbody tr")) >= 3)
    text = browser.find_element(By.ID, "admin-list").text
    assert "Ada Lovelace" in text and "cancelled" in text and "booked:" in text
    browser.save_screenshot(str(ARTIFACTS / "page-admin-desktop.png"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#admin-list tbody tr")
    booked = [row for row in rows if row.find_elements(By.CSS_SELECTOR, "button")]
    booked_id = booked[0].get_attribute("data-id")
    booked[0].find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(browser, lambda d: f"#{booked_id} is cancelled" in status_text(d))


def test_security_headers_and_mobile_layout(server, browser):
    with urllib.request.urlopen(server + "/") as response:
        assert response.headers["Content-Type"].startswith("text/html")
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    with urllib.request.urlopen(server + "/app.js") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
    browser.set_window_size(375, 812)
    browser.get(server + "/")
    slot_buttons(browser)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide on a 375px screen"
    browser.save_screenshot(str(ARTIFACTS / "page-mobile.png"))
    browser.set_window_size(1280, 900)


def test_two_resources_pick_the_second_to_book(two_resources, browser):
    browser.get(two_resources + "/")
    picker = wait(browser, EC.visibility_of_element_located((By.ID, "resource")))
    assert [option.text for option in Select(picker).options] == ["Room A", "Dr. Lee"]
    assert all(minutes(button) == 30 for button in slot_buttons(browser)), "Room A first, 30-minute slots"
    assert "Room A" in browser.find_element(By.ID, "schedule-info").text

    Select(picker).select_by_visible_text("Dr. Lee")
    wait(browser, lambda d: all(minutes(button) == 45 for button in slot_buttons(d)))
    wait(browser, lambda d: "Dr. Lee: 45-minute appointments" in d.find_element(By.ID, "schedule-info").text)
    assert "Asia/Tokyo" in browser.find_element(By.ID, "zone-note").text
    browser.save_screenshot(str(ARTIFACTS / "page-resources-desktop.png"))

    button = slot_buttons(browser)[2]
    start = button.get_attribute("data-start")
    button.click()
    fill(browser, "Lin Lee", "lin@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    assert "with Dr. Lee" in browser.find_element(By.ID, "confirmation").text
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{start}"]'))
    wait(browser, lambda d: "Dr. Lee" in d.find_element(By.CSS_SELECTOR, "#my-bookings li").text)

    _, appointments = call(two_resources, "GET", "/api/appointments", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert [(a["resource"], a["slot_start"]) for a in appointments] == [("dr-lee", start)]
    _, room_a = call(two_resources, "GET", "/api/availability?resource=room-a")
    _, dr_lee = call(two_resources, "GET", "/api/availability?resource=dr-lee")
    assert start not in [slot["start"] for slot in dr_lee] and len(room_a) > 0


def appointment_named(base, name):
    _, appointments = call(base, "GET", "/api/appointments", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    return next(a for a in appointments if a["customer_name"] == name)


def click(driver, locator):
    """Clicks the element at `locator` once it is clickable; one re-rendered between finding and clicking (a list whose
    earlier load comes back) is found again."""
    def clicked(d):
        element = EC.element_to_be_clickable(locator)(d)
        return bool(element) and (element.click() or True)
    wait(driver, clicked)


def move_to(driver, start):
    """In move mode, picks the slot starting at `start` and confirms the move."""
    wait(driver, lambda d: d.find_element(By.ID, "move-panel").is_displayed())
    assert not driver.find_element(By.ID, "booking-form").is_displayed(), "the details form gives way to the move"
    click(driver, (By.CSS_SELECTOR, f'#availability .slot[data-start="{start}"]'))
    wait(driver, lambda d: d.find_element(By.ID, "confirm-move").is_enabled())
    driver.find_element(By.ID, "confirm-move").click()
    wait(driver, lambda d: "moved to" in status_text(d).lower())


def test_reschedule_from_my_bookings_and_from_admin(server, browser, console):
    browser.get(server + "/")
    buttons = slot_buttons(browser)
    first, second, third = (buttons[i].get_attribute("data-start") for i in (4, 7, 9))
    buttons[4].click()
    fill(browser, "Grace Hopper", "grace@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    booked = appointment_named(server, "Grace Hopper")
    assert booked["slot_start"] == first and booked["sequence"] == 0

    # My bookings: pick a new slot, confirm; the old one is offered again, the new one is gone.
    click(browser, (By.CSS_SELECTOR, f'#my-bookings li[data-id="{booked["id"]}"] button[aria-label^="Reschedule"]'))
    move_to(browser, second)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{first}"]'))
    assert not browser.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{second}"]')
    assert browser.find_element(By.ID, "booking-form").is_displayed(), "the form is back after the move"
    moved = appointment_named(server, "Grace Hopper")
    assert (moved["id"], moved["slot_start"], moved["sequence"]) == (booked["id"], second, 1)
    browser.save_screenshot(str(ARTIFACTS / "page-rescheduled-desktop.png"))

    # The admin tab: the same move with the admin token, back to the admin list afterwards.
    browser.find_element(By.ID, "tab-admin").click()
    token = browser.find_element(By.ID, "admin-token")
    token.clear()
    token.send_keys(ADMIN_TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#admin-form button[type=submit]").click()
    click(browser, (By.XPATH, f'//tr[@data-id="{booked["id"]}"]//button[text()="Reschedule"]'))
    move_to(browser, third)
    wait(browser, lambda d: d.find_element(By.ID, "panel-admin").is_displayed())
    again = appointment_named(server, "Grace Hopper")
    assert (again["slot_start"], again["sequence"]) == (third, 2)
    _, notifications = call(server, "GET", f"/api/notifications?appointment_id={booked['id']}",
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert sorted(n["sequence"] for n in notifications if n["kind"] == "rescheduled") == [1, 2]
    _, free = call(server, "GET", "/api/availability")
    starts = [slot["start"] for slot in free]
    assert first in starts and second in starts and third not in starts


def test_icons_are_served(server):
    for path in ["/favicon.svg", "/favicon.ico"]:
        with urllib.request.urlopen(server + path) as response:
            assert response.headers["Content-Type"] == "image/svg+xml"
            assert response.read().startswith(b"<svg")


# ---------- a day whose clock goes back ----------

def next_fall_back(zone, now):
    """The first instant after `now` (whole hours, UTC) at which `zone`'s clock goes back, or None within 400 days."""
    tz = ZoneInfo(zone)
    at = now.replace(minute=0, second=0, microsecond=0)
    for _ in range(24 * 400):
        after = at + timedelta(hours=1)
        if after.astimezone(tz).utcoffset() < at.astimezone(tz).utcoffset():
            return after
        at = after
    return None


@pytest.fixture(scope="module")
def fall_back():
    """A resource in New York (in Sydney the few days a year New York's next fall-back is beyond the 366-day
    horizon) with one-hour slots from 00:00 to 03:00, open from two days before the next fall-back to two days
    after it; yields (base URL, zone, the fall-back instant: the second 01:00)."""
    now = datetime.now(timezone.utc)
    for zone in ["America/New_York", "Australia/Sydney"]:
        change = next_fall_back(zone, now)
        if change and (change - now).days + 3 <= 366:
            break
    days_ahead = (change - now).days + 3
    notice = max(0, int((change - now).total_seconds() // 60) - 2 * 1440)
    with tempfile.TemporaryDirectory(prefix="booking-resources-") as directory:
        path = pathlib.Path(directory) / "resources.json"
        path.write_text(json.dumps({"resources": [{
            "id": "clock", "name": "Clock", "timeZone": zone, "hours": "daily=00:00-03:00", "slotMinutes": 60,
            "daysAhead": days_ahead, "minNoticeMinutes": notice,
        }]}))
        for base in start_server("--config", str(path)):
            yield base, zone, change


def test_a_day_whose_clock_goes_back_names_the_zone_of_every_time(fall_back):
    # The first 01:00 of the fall-back day is booked, so the second 01:00 is the only one left: it still says which
    # one it is (EST), in the grid, in the Selected line, in the confirmation and in My bookings.
    base, zone, change = fall_back
    _, free = call(base, "GET", "/api/availability?resource=clock")
    by_instant = {datetime.fromisoformat(slot["start"]): slot for slot in free}
    first, second = by_instant[change - timedelta(hours=1)], by_instant[change]
    plain_day = by_instant[change - timedelta(days=1)]  # the day before: its clock does not change
    status, _ = call(base, "POST", "/api/appointments", {"slotStart": first["start"], "slotEnd": first["end"],
                                                          "name": "Early Bird", "email": "early@example.com", "resource": "clock"})
    assert status == 201

    visitor = new_browser(zone)
    try:
        visitor.get(base + "/")
        slot_buttons(visitor)
        assert not visitor.find_elements(By.CSS_SELECTOR, f'#availability .slot[data-start="{first["start"]}"]')
        # The zone's name for the second 01:00 as this browser writes it ("EST" in English, "GMT-5" in some locales).
        name = visitor.execute_script("""return new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
            .formatToParts(new Date(arguments[0])).find((part) => part.type === "timeZoneName").value""", second["start"])
        if zone == "America/New_York":
            assert name in ("EST", "GMT-5"), name
        button = slot_button(visitor, second["start"])
        assert re.fullmatch(r"01:00( AM)? " + re.escape(name), button.text), button.text
        assert name in button.get_attribute("aria-label")
        other = slot_button(visitor, plain_day["start"])
        assert re.fullmatch(r"\d\d:\d\d( [AP]M)?", other.text), f"a day whose clock does not change: no zone ({other.text})"

        button.click()
        wait(visitor, lambda d: name in d.find_element(By.ID, "selected-slot").text)
        fill(visitor, "Late Bird", "late@example.com")
        visitor.find_element(By.ID, "book").click()
        wait(visitor, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
        assert re.search(r"01:00( AM)? " + re.escape(name), visitor.find_element(By.ID, "confirmation").text)
        wait(visitor, lambda d: name in d.find_element(By.CSS_SELECTOR, "#my-bookings li").text)
    finally:
        visitor.quit()
    assert appointment_named(base, "Late Bird")["slot_start"] == second["start"]


# ---------- a booking whose answer was lost ----------

# The page's fetch: the first booking POST reaches the server, and its answer is lost on the way back.
LOSE_THE_FIRST_BOOKING_ANSWER = """
    const real = window.fetch;
    let lost = false;
    window.fetch = async (url, init) => {
        const response = await real(url, init);
        if (!lost && String(url).endsWith("/api/appointments") && init?.method === "POST") {
            lost = true;
            throw new TypeError("Failed to fetch");
        }
        return response;
    };
"""


def appointments_of(base, email):
    _, appointments = call(base, "GET", "/api/appointments", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    return [a for a in appointments if a["customer_email"] == email]


def test_a_booking_whose_answer_was_lost_is_settled_before_the_next_one(server, browser, console):
    # The answer to a booking is lost, though the server made it; the visitor edits their name and presses Book again.
    # The page sends the first request again, unchanged and with its key, and learns the booking (and its token).
    browser.get(server + "/")
    button = slot_buttons(browser)[21]
    start = button.get_attribute("data-start")
    button.click()
    wait(browser, lambda d: hold_text(d).startswith("Held for you for "))
    browser.execute_script(LOSE_THE_FIRST_BOOKING_ANSWER)
    fill(browser, "Lost Answer", "lost@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: "may have been made" in status_text(d))
    assert [a["slot_start"] for a in appointments_of(server, "lost@example.com")] == [start], "the first request booked"

    fill(browser, "Edited Name", "lost@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    assert "first attempt went through" in status_text(browser), status_text(browser)
    assert "IDEMPOTENCY" not in status_text(browser).upper()
    booked = appointments_of(server, "lost@example.com")
    assert [(a["customer_name"], a["slot_start"]) for a in booked] == [("Lost Answer", start)]
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#my-bookings li[data-id="{booked[0]["id"]}"] button.danger'))
    assert not browser.find_element(By.ID, "hold-status").is_displayed(), "the booking used the hold up"

    # The same when the visitor picks another slot instead: the lost booking is learned, the other slot not held.
    browser.get(server + "/")
    buttons = slot_buttons(browser)
    start, other = buttons[22].get_attribute("data-start"), buttons[23].get_attribute("data-start")
    buttons[22].click()
    wait(browser, lambda d: hold_text(d).startswith("Held for you for "))
    browser.execute_script(LOSE_THE_FIRST_BOOKING_ANSWER)
    fill(browser, "Lost Again", "lost-again@example.com")
    browser.find_element(By.ID, "book").click()
    wait(browser, lambda d: "may have been made" in status_text(d))
    slot_button(browser, other).click()
    wait(browser, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    assert "first attempt went through" in status_text(browser)
    booked = appointments_of(server, "lost-again@example.com")
    assert [(a["customer_name"], a["slot_start"]) for a in booked] == [("Lost Again", start)]
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#my-bookings li[data-id="{booked[0]["id"]}"]'))
    assert other in free_starts(server), "the other slot was not held"


# ---------- focus after cancels, moves and refusals ----------

def active_element(driver):
    return driver.execute_script("""const active = document.activeElement;
        return active === document.body ? "BODY" : active.id || (active.classList.contains("slot") ? "slot" : active.tagName)""")


# The page's fetch, for requests whose URL ends with `arguments[0]`: a 409 SLOT_UNAVAILABLE, and nothing sent.
REFUSE = """
    const real = window.realFetch ?? window.fetch;
    window.realFetch = real;
    const ending = arguments[0];
    window.fetch = (url, init) => String(url).endsWith(ending) && init?.method === "POST"
        ? Promise.resolve(new Response(JSON.stringify({ code: "SLOT_UNAVAILABLE", error: "That slot was just taken." }),
            { status: 409, headers: { "Content-Type": "application/problem+json" } }))
        : real(url, init);
"""


def press(driver, locator):
    """Presses Enter on the element at `locator` once it is clickable, found again if re-rendered meanwhile."""
    def pressed(d):
        element = EC.element_to_be_clickable(locator)(d)
        return bool(element) and (element.send_keys(Keys.ENTER) or True)
    wait(driver, pressed)


def slot_at(index):
    """The locator of the `index`th (from 0) free slot of the grid."""
    return (By.XPATH, f'(//*[@id="availability"]//button[contains(@class, "slot")])[{index + 1}]')


def book_by_keyboard(driver, base, index, name, email):
    """Books the `index`th free slot with the keyboard; returns the appointment as the server lists it."""
    press(driver, slot_at(index))
    wait(driver, lambda d: hold_text(d).startswith("Held for you for "))
    fill(driver, name, email)
    driver.find_element(By.ID, "book").send_keys(Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "confirmation").is_displayed())
    return appointment_named(base, name)


def test_focus_is_never_left_on_the_body(server, browser, console):
    # A keyboard user whose button is hidden, disabled or re-rendered away keeps a place: the status line after a
    # cancel or a move, a slot after a refused pick or move and when a move starts.
    browser.get(server + "/")
    book_by_keyboard(browser, server, 24, "Focus One", "focus-one@example.com")
    press(browser, (By.CSS_SELECTOR, "#confirmation button"))
    wait(browser, lambda d: "cancelled" in status_text(d) and active_element(d) == "status")

    booked = book_by_keyboard(browser, server, 25, "Focus Two", "focus-two@example.com")
    press(browser, (By.CSS_SELECTOR, f'#my-bookings li[data-id="{booked["id"]}"] button.danger'))
    wait(browser, lambda d: "cancelled" in d.find_element(By.CSS_SELECTOR, f'#my-bookings li[data-id="{booked["id"]}"] .badge').text)
    wait(browser, lambda d: active_element(d) == "status")

    # A pick the hold request refuses (the 409 stood in for by the page's fetch).
    browser.execute_script(REFUSE, "/api/holds")
    press(browser, slot_at(26))
    wait(browser, lambda d: "just taken" in status_text(d))
    wait(browser, lambda d: active_element(d) == "slot")
    browser.execute_script("window.fetch = window.realFetch")

    # A move: it starts on a slot; a refused move goes back to a slot, a made one to the status line.
    booked = book_by_keyboard(browser, server, 27, "Focus Three", "focus-three@example.com")
    press(browser, (By.CSS_SELECTOR, f'#my-bookings li[data-id="{booked["id"]}"] button[aria-label^="Reschedule"]'))
    wait(browser, lambda d: d.find_element(By.ID, "move-panel").is_displayed() and active_element(d) == "slot")
    browser.execute_script(REFUSE, "/reschedule")
    press(browser, slot_at(28))
    press(browser, (By.ID, "confirm-move"))
    wait(browser, lambda d: "just taken" in status_text(d))
    wait(browser, lambda d: active_element(d) == "slot")
    browser.execute_script("window.fetch = window.realFetch")
    press(browser, slot_at(28))
    press(browser, (By.ID, "confirm-move"))
    wait(browser, lambda d: "moved to" in status_text(d).lower())
    wait(browser, lambda d: active_element(d) == "status")

    # The admin list's Cancel.
    browser.find_element(By.ID, "tab-admin").click()
    token = browser.find_element(By.ID, "admin-token")
    token.clear()
    token.send_keys(ADMIN_TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#admin-form button[type=submit]").click()
    press(browser, (By.CSS_SELECTOR, f'#admin-list tr[data-id="{booked["id"]}"] button.danger'))
    wait(browser, lambda d: f'#{booked["id"]} is cancelled' in status_text(d))
    wait(browser, lambda d: active_element(d) == "status")
    browser.find_element(By.ID, "tab-book").click()


# ---------- the zone note, resources that fail to load, My bookings, no JavaScript ----------

@pytest.fixture(scope="module")
def kolkata():
    yield from start_server("--time-zone", "Asia/Kolkata")


def test_one_zone_under_two_names_is_the_visitors_zone(kolkata):
    # Chrome calls Asia/Kolkata Asia/Calcutta: an Indian visitor is not told the business works elsewhere.
    visitor = new_browser("Asia/Kolkata")
    try:
        visitor.get(kolkata + "/")
        slot_buttons(visitor)
        wait(visitor, lambda d: d.find_element(By.ID, "zone-note").text.startswith("Times are shown in"))
        assert "the business works in" not in visitor.find_element(By.ID, "zone-note").text
    finally:
        visitor.quit()


def test_resources_that_fail_to_load_say_so_and_refresh_asks_again(two_resources):
    # /api/resources unreachable at load (the page's fetch, replaced before the page's script runs): the slot area
    # says so and asks for no slots of a resource that may not exist; Refresh asks for the resources again.
    visitor = new_browser()
    try:
        visitor.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
            const real = window.fetch;
            window.failResources = true;
            window.fetch = (url, init) => window.failResources && String(url).endsWith("/api/resources")
                ? Promise.reject(new TypeError("Failed to fetch")) : real(url, init);
        """})
        visitor.get(two_resources + "/")
        wait(visitor, lambda d: "could not be loaded" in d.find_element(By.ID, "availability").text)
        assert "Refresh" in visitor.find_element(By.ID, "availability").text
        assert "No resource" not in visitor.find_element(By.ID, "availability").text
        visitor.execute_script("window.failResources = false")
        visitor.find_element(By.ID, "refresh").click()
        assert all(minutes(button) == 30 for button in slot_buttons(visitor)), "Room A's slots"
        assert visitor.find_element(By.ID, "resource").is_displayed()
    finally:
        visitor.quit()


def test_my_bookings_drops_the_unknown_and_offers_no_change_to_an_ended_one(server):
    # One entry the server does not know (404): dropped from the device's list. One that has ended (its answer stood
    # in for by the page's fetch): listed, with no Reschedule and no Cancel.
    visitor = new_browser()
    try:
        visitor.get(server + "/")
        visitor.execute_script("""localStorage.setItem("swift-booking.my-bookings", JSON.stringify([
            { id: 999999, token: "unknown", start: "2030-01-01T09:00:00.000Z", end: "2030-01-01T09:30:00.000Z", status: "booked" },
            { id: 424242, token: "ended", start: "2020-01-01T09:00:00.000Z", end: "2020-01-01T09:30:00.000Z", status: "booked" },
        ]))""")
        visitor.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
            const real = window.fetch;
            window.fetch = (url, init) => String(url).endsWith("/api/appointments/424242")
                ? Promise.resolve(new Response(JSON.stringify({ id: 424242, status: "booked",
                    slot_start: "2020-01-01T09:00:00.000Z", slot_end: "2020-01-01T09:30:00.000Z" }),
                    { status: 200, headers: { "Content-Type": "application/json" } }))
                : real(url, init);
        """})
        visitor.get(server + "/")
        ended = wait(visitor, EC.presence_of_element_located((By.CSS_SELECTOR, '#my-bookings li[data-id="424242"]')))
        wait(visitor, lambda d: not d.find_elements(By.CSS_SELECTOR, '#my-bookings li[data-id="999999"]'))
        assert [b.text for b in ended.find_elements(By.CSS_SELECTOR, "button")] == ["Add to calendar"]
        stored = visitor.execute_script('return JSON.parse(localStorage.getItem("swift-booking.my-bookings")).map((e) => e.id)')
        assert stored == [424242]
    finally:
        visitor.quit()


def test_without_javascript_the_page_says_it_needs_it(server):
    visitor = new_browser()
    try:
        visitor.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        visitor.get(server + "/")
        assert "needs JavaScript" in visitor.find_element(By.TAG_NAME, "body").text
        assert "Loading free slots" not in visitor.find_element(By.TAG_NAME, "body").text
    finally:
        visitor.quit()
