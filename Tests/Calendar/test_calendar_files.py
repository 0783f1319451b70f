"""Parses every calendar file a live booking-server writes with a real iCalendar parser (the `icalendar`
package from PyPI): an appointment's file as it is booked, moved and cancelled, the resource feed in both
forms, and the file each webhook carries.

Run through scripts/calendar-test, which builds the server and installs pytest and icalendar.
"""
import json
import pathlib
import re
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import icalendar
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "PythonSupport"))
from booking_server import ADMIN_TOKEN, call, free_port, start_server  # noqa: E402

FEED_SECRET = "calendar-feed-secret-0123456789"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DOMAIN = "booking.example.com"
# A long name of 2-, 3- and 4-byte characters with a comma and a semicolon: SUMMARY folds and escapes.
NAME = "Dr. Zoë Ångström-Łukasiewicz, Zahnärztin; 東京クリニック 👩🏽‍⚕️ Praxis am Königsplatz"
RESOURCES = {"resources": [
    {"id": "dr-zoe", "name": NAME, "timeZone": "Europe/Berlin", "hours": "daily=00:00-24:00", "slotMinutes": 30},
]}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver that keeps every JSON body it is sent."""
    bodies = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *arguments):
        pass


@pytest.fixture(scope="module")
def hooks():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


@pytest.fixture(scope="module")
def server(hooks):
    with tempfile.TemporaryDirectory(prefix="booking-calendar-") as directory:
        path = pathlib.Path(directory) / "resources.json"
        path.write_text(json.dumps(RESOURCES))
        yield from start_server(
            "--config", str(path), "--calendar-domain", DOMAIN, "--webhook-url", hooks,
            "--webhook-secret", WEBHOOK_SECRET, "--webhook-calendar",
            environment={"BOOKING_CALENDAR_FEED_SECRET": FEED_SECRET})


def fetch(base, path, headers=None):
    """GETs `path`: the status, the headers and the raw body."""
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def parse(raw):
    """Checks the wire form (CRLF everywhere, lines of at most 75 octets) and parses it with icalendar."""
    assert raw.endswith(b"\r\n")
    lines = raw[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines), "a bare line break"
    assert max(len(line) for line in lines) <= 75, "a line longer than 75 octets"
    for line in lines:
        line.decode("utf-8")  # each physical line is whole UTF-8: no sequence was split by a fold
    return icalendar.Calendar.from_ical(raw.decode("utf-8"))


def text_value(escaped):
    """An RFC 5545 TEXT value, unescaped: \\, \\; \\, and \\n."""
    return re.sub(r"\\([\\;,nN])", lambda match: "\n" if match.group(1) in "nN" else match.group(1), escaped)


def event(calendar):
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def uid(appointment):
    """The appointment's UID: its id and when it was created, in milliseconds since 1970."""
    created = (utc(appointment["created_at"]) - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    return f"appointment-{appointment['id']}-{created}@{DOMAIN}"


def check_event(vevent, appointment):
    """The event says what the appointment's JSON says."""
    assert str(vevent["UID"]) == uid(appointment)
    assert int(vevent["SEQUENCE"]) == appointment["sequence"]
    start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert start.tzinfo is not None and start.utcoffset().total_seconds() == 0, "DTSTART is in UTC"
    assert (start, end) == (utc(appointment["slot_start"]), utc(appointment["slot_end"]))
    assert str(vevent["STATUS"]) == ("CONFIRMED" if appointment["status"] == "booked" else "CANCELLED")
    assert vevent.decoded("DTSTAMP").tzinfo is not None


def appointment_file(base, appointment, token):
    status, headers, raw = fetch(base, f"/api/appointments/{appointment['id']}/calendar.ics", {"X-Cancel-Token": token})
    assert status == 200
    calendar = parse(raw)
    method = str(calendar["METHOD"])
    assert headers["Content-Type"] == f"text/calendar; charset=utf-8; method={method}"
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    vevent = event(calendar)
    check_event(vevent, appointment)
    assert str(vevent["SUMMARY"]) == f"Appointment: {NAME}", "escaped and folded, read back exactly"
    # RFC 5546: REQUEST and CANCEL name the organizer and the attendee (who already accepted).
    assert str(vevent["ORGANIZER"]) == f"mailto:noreply@{DOMAIN}"
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == f"mailto:{appointment['customer_email']}"
    assert (attendee.params["PARTSTAT"], attendee.params["RSVP"]) == ("ACCEPTED", "FALSE")
    return method, vevent


def test_an_empty_feed_is_a_calendar_with_a_component(server):
    # Runs first (pytest keeps the file's order): the resource has no appointments yet.
    status, _, raw = fetch(server, f"/api/resources/dr-zoe/calendar/{FEED_SECRET}.ics")
    assert status == 200
    calendar = parse(raw)
    assert calendar.walk("VEVENT") == []
    # RFC 5545 section 3.6: a calendar holds at least one component.
    assert [component.name for component in calendar.subcomponents] == ["VTIMEZONE"]
    assert str(calendar.subcomponents[0]["TZID"]) == "UTC"


def test_an_appointment_file_through_booking_moving_and_cancelling(server):
    _, slots = call(server, "GET", "/api/availability?resource=dr-zoe")
    status, booked = call(server, "POST", "/api/appointments", {
        "slotStart": slots[2]["start"], "slotEnd": slots[2]["end"], "name": "Ada Lovelace",
        "email": "ada@example.com", "note": "Bring the X-rays, please; and the letter\nfrom Dr. Babbage",
        "resource": "dr-zoe"})
    assert status == 201
    token = booked["cancel_token"]
    method, first = appointment_file(server, booked, token)
    assert method == "REQUEST" and int(first["SEQUENCE"]) == 0

    status, moved = call(server, "POST", f"/api/appointments/{booked['id']}/reschedule",
                         {"slotStart": slots[5]["start"], "slotEnd": slots[5]["end"]}, {"X-Cancel-Token": token})
    assert status == 200
    method, second = appointment_file(server, moved, token)
    assert method == "REQUEST" and int(second["SEQUENCE"]) == 1
    assert str(second["UID"]) == str(first["UID"])

    status, cancelled = call(server, "POST", f"/api/appointments/{booked['id']}/cancel", headers={"X-Cancel-Token": token})
    assert status == 200
    method, third = appointment_file(server, cancelled, token)
    assert method == "CANCEL" and str(third["STATUS"]) == "CANCELLED"
    assert str(third["UID"]) == str(first["UID"])
    assert int(third["SEQUENCE"]) >= int(second["SEQUENCE"])


def test_the_feed_by_path_and_by_header_with_etag(server):
    _, slots = call(server, "GET", "/api/availability?resource=dr-zoe")
    _, kept = call(server, "POST", "/api/appointments", {
        "slotStart": slots[8]["start"], "slotEnd": slots[8]["end"], "name": "Grace Hopper",
        "email": "grace@example.com", "note": "Second floor, room 2; back\\side", "resource": "dr-zoe"})
    _, appointments = call(server, "GET", "/api/appointments", headers=ADMIN)
    mine = {a["id"]: a for a in appointments if a["resource"] == "dr-zoe"}
    assert kept["id"] in mine

    for path, headers in [(f"/api/resources/dr-zoe/calendar/{FEED_SECRET}.ics", {}),
                          ("/api/resources/dr-zoe/calendar.ics", {"Authorization": f"Bearer {FEED_SECRET}"}),
                          ("/api/resources/dr-zoe/calendar.ics", ADMIN)]:
        status, response_headers, raw = fetch(server, path, headers)
        assert status == 200
        assert response_headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert response_headers["Cache-Control"] == "private, no-cache"
        calendar = parse(raw)
        assert "METHOD" not in calendar
        # icalendar keeps calendar-level names as written (vUnknown); both are TEXT (RFC 7986, and by use),
        # so decode them as TEXT here.
        for name in ["NAME", "X-WR-CALNAME"]:
            assert text_value(str(calendar[name])) == NAME
        assert calendar.decoded("REFRESH-INTERVAL") == timedelta(minutes=15)
        assert str(calendar["X-PUBLISHED-TTL"]) == "PT15M"
        events = calendar.walk("VEVENT")
        by_uid = {uid(appointment): appointment for appointment in mine.values()}
        assert sorted(str(e["UID"]) for e in events) == sorted(by_uid)
        for vevent in events:
            appointment = by_uid[str(vevent["UID"])]
            check_event(vevent, appointment)
            assert vevent.decoded("DTSTAMP") == utc(appointment["updated_at"]).replace(microsecond=0)
            assert str(vevent["DESCRIPTION"]) == "\n".join([appointment["customer_email"]] + ([appointment["note"]] if appointment["note"] else []))
        etag = response_headers["ETag"]
        status, again, body = fetch(server, path, {**headers, "If-None-Match": etag})
        assert (status, again["ETag"], body) == (304, etag, b"")

    assert fetch(server, "/api/resources/dr-zoe/calendar/wrong-secret-0123456789.ics")[0] == 404
    assert fetch(server, "/api/resources/dr-zoe/calendar.ics")[0] == 401


def test_every_webhook_carries_a_calendar_file_that_parses(server):
    _, slots = call(server, "GET", "/api/availability?resource=dr-zoe")
    _, booked = call(server, "POST", "/api/appointments", {
        "slotStart": slots[11]["start"], "slotEnd": slots[11]["end"], "name": "Lin Lee", "email": "lin@example.com",
        "resource": "dr-zoe"})
    headers = {"X-Cancel-Token": booked["cancel_token"]}
    call(server, "POST", f"/api/appointments/{booked['id']}/reschedule",
         {"slotStart": slots[12]["start"], "slotEnd": slots[12]["end"]}, headers)
    call(server, "POST", f"/api/appointments/{booked['id']}/cancel", headers=headers)

    def delivered():
        return [body for body in Receiver.bodies if body["appointment"]["id"] == booked["id"]]
    for _ in range(100):
        if len(delivered()) == 3:
            break
        time.sleep(0.1)
    bodies = delivered()
    assert sorted(body["kind"] for body in bodies) == ["booked", "cancelled", "rescheduled"]
    for body in bodies:
        calendar = parse(body["calendar"].encode("utf-8"))
        vevent = event(calendar)
        # The appointment is read when the notification is sent: the file matches the payload's appointment.
        check_event(vevent, body["appointment"])
        assert str(calendar["METHOD"]) == ("REQUEST" if body["appointment"]["status"] == "booked" else "CANCEL")
        assert str(vevent["SUMMARY"]) == f"Appointment: {NAME}"
