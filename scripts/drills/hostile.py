"""hostile: every route with what a hostile or broken client sends.

Oversized, chunked and lying-length bodies, deeply nested JSON, invalid UTF-8, control characters,
absurd dates (year 0, 9999, 1969, Feb 30, Nov 31, month 13, hour 25), a 1 ms slot, huge and negative ids,
duplicate JSON keys, wrong content types, 10-year availability windows, oversized URLs and headers,
and path traversal on the static files.

Guarantees: each request is answered within 2 s with a 4xx (never a 5xx, a reset, a closed
connection or a hang). The exceptions are requests the API documents as valid, marked `or 200`:
an availability window is clamped to the schedule (so a 10-year or a 1969 window is a 200 with
slots inside the horizon), and a route that takes no body ignores one. Each booking aims at a free,
offered slot of its own and each cancel at an appointment of its own (with its real cancel token), so
a request that is wrongly accepted shows as a 201 or 200. Nothing a request did is
visible afterwards: the admin listings of appointments and notifications are the same before and
after, no static file leaks anything but the page, and the server is still healthy.
"""

import json
import time
from datetime import timedelta

from .harness import (ADMIN_TOKEN, DrillError, Server, Verdict, call, examples, finish, iso, log, parse_instant,
                      raw_call, seconds)

ANSWER_BOUND = 2.0
TIMEOUT = 5.0
HORIZON_DAYS = 100  # long enough to hold the 1st of a month after a month of fewer than 31 days
CANCEL_TARGETS = 40  # no answer within this is a hang (anything over ANSWER_BOUND already fails)
# What must never come back from a static-file route.
LEAK_MARKERS = (b"root:", b"swift-tools-version", b"[core]", b"PRIVATE KEY", b"import Foundation")


class Case:
    def __init__(self, label, send, allow_200=False, leak_check=False):
        self.label, self.send, self.allow_200, self.leak_check = label, send, allow_200, leak_check


def run(context):
    verdict = Verdict("hostile")
    context.drill_dir("hostile")
    try:
        server = Server(context, f"sqlite:{context.workdir}/booking.sqlite", "server", days_ahead=HORIZON_DAYS).start()
        slots = server.availability()
        horizon_end = max(parse_instant(s["end"]) for s in slots)
        overflow, overflow_slot = nonexistent_day(slots)
        # Every case that could book or cancel gets a slot or an appointment of its own, so a request
        # that is wrongly accepted shows as a 201 or 200 (and in the listings), never hidden by a 409.
        pool = [s for s in slots[len(slots) // 4:] if s["start"] != overflow_slot["start"]]
        targets = []
        for n in range(CANCEL_TARGETS):
            answer = server.book(pool.pop(), f"hostile-target-{n}")
            if answer.status != 201:
                raise DrillError(f"setup booking {n}: {answer.describe()}")
            targets.append(answer.json())
        notification_id = settle_notifications(server)
        before = (server.appointments(), server.notifications())

        cases = build_cases(server.port, pool, targets, overflow, overflow_slot, notification_id)
        results = []
        for case in cases:
            answer = case.send()
            answer.tag = case.label
            results.append((case, answer))
            if context.verbose:
                log(f"hostile: {case.label}: {answer.status or answer.error} in {answer.latency * 1000:.0f} ms")

        failures = []
        for case, answer in results:
            problem = judge(case, answer, horizon_end)
            if problem:
                failures.append(f"{case.label}: {problem}")
        verdict.figure("requests", len(results))
        verdict.figure("4xx", sum(1 for _, a in results if a.status is not None and 400 <= a.status < 500))
        verdict.figure("5xx", sum(1 for _, a in results if a.status is not None and a.status >= 500))
        verdict.figure("no-answer", sum(1 for _, a in results if a.status is None))
        verdict.figure("max-latency", seconds(max((a.latency for _, a in results), default=0.0)))
        verdict.figure("wrong", len(failures))
        for failure in failures:
            log(f"hostile: {failure}")
        if failures:
            verdict.fail(f"{len(failures)} of {len(results)} requests broke the rule: " + "; ".join(failures[:8])
                         + (f"; and {len(failures) - 8} more (see standard error)" if len(failures) > 8 else ""))

        health = server.get("/health", timeout=TIMEOUT)
        verdict.check(server.process.poll() is None and health.status == 200,
                      f"the server is not healthy afterwards: {health.describe()} {server.log_tail()}")
        after = (server.appointments(), server.notifications())
        verdict.check(after[0] == before[0], "the appointments changed: " + diff(before[0], after[0]))
        verdict.check(after[1] == before[1], "the notifications changed: " + diff(before[1], after[1]))
        verdict.figure("unchanged", "yes" if after == before else "no")
        finish(verdict, [server])
    except DrillError as error:
        verdict.fail(f"setup: {error}")
    return verdict


def judge(case, answer, horizon_end):
    """Why an answer breaks the rule, or None."""
    if answer.status is None:
        return f"no HTTP answer ({answer.error}) after {answer.latency:.2f}s"
    if answer.error:
        return f"HTTP {answer.status} but then {answer.error}"
    if answer.latency > ANSWER_BOUND:
        return f"HTTP {answer.status} after {answer.latency:.2f}s (bound {seconds(ANSWER_BOUND)})"
    if case.leak_check and any(marker in answer.body for marker in LEAK_MARKERS):
        return f"HTTP {answer.status} with a file that is not the page ({answer.body[:60]!r})"
    if 400 <= answer.status < 500:
        return None
    if answer.status == 200 and case.allow_200:
        body = answer.json()
        if isinstance(body, list) and body and isinstance(body[0], dict) and "end" in body[0]:
            outside = [s for s in body if parse_instant(s["end"]) > horizon_end]
            if outside:
                return f"HTTP 200 with {len(outside)} slots past the horizon (window not clamped)"
        return None
    body = answer.json()
    if isinstance(body, dict) and "id" in body and "status" in body:
        return (f"HTTP {answer.status}, not a 4xx: appointment #{body['id']} {body['status']} "
                f"at {body.get('slot_start')}")
    return f"HTTP {answer.status}, not a 4xx ({answer.body[:60]!r})"


def settle_notifications(server):
    """Waits (bounded) until the outbox is quiet, so the before/after comparison sees only the
    requests; returns a notification id for the retry route."""
    deadline = time.monotonic() + 15
    while True:
        notifications = server.notifications()
        if all(n["status"] != "pending" for n in notifications) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if not notifications:
        raise DrillError("the setup bookings have no notifications")
    return notifications[0]["id"]


def diff(before, after):
    b = {x["id"]: x for x in before}
    a = {x["id"]: x for x in after}
    added = [i for i in a if i not in b]
    changed = [i for i in a if i in b and a[i] != b[i]]
    removed = [i for i in b if i not in a]
    parts = []
    if added:
        parts.append(f"added {examples(summary(a[i]) for i in added)}")
    if changed:
        parts.append(f"changed {examples(summary(a[i]) for i in changed)}")
    if removed:
        parts.append(f"removed #{examples(removed)}")
    return "; ".join(parts) or "(order)"


def summary(item):
    if "slot_start" in item:
        return f"#{item['id']} {item['customer_name']!r} {item['slot_start']} {item['status']}"
    return f"#{item['id']} {item['kind']} of #{item['appointment_id']} {item['status']}"


# MARK: - the cases


def build_cases(port, pool, targets, overflow, overflow_slot, notification_id):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    json_type = {"Content-Type": "application/json"}
    targets = list(targets)
    cases = []

    def booking(**fields):
        """A valid booking of a free slot of its own, with `fields` replaced."""
        slot = pool.pop()
        body = {"slotStart": slot["start"], "slotEnd": slot["end"], "name": "Hostile Hal", "email": "hal@example.com"}
        body.update(fields)
        return body

    def cancel_target():
        """The cancel path and a valid body (the real cancel token) of an appointment of its own."""
        target = targets.pop()
        return f"/api/appointments/{target['id']}/cancel", {"token": target["cancel_token"]}

    def body_route(route):
        """(path, a valid body, its text key) of the booking, the hold or the cancel route."""
        if route == "booking":
            return "/api/appointments", booking(), b'"name"'
        if route == "hold":
            slot = pool.pop()
            return "/api/holds", {"slotStart": slot["start"], "slotEnd": slot["end"]}, b'"slotStart"'
        path, body = cancel_target()
        return path, body, b'"token"'

    def http(label, method, path, body=None, headers=None, allow_200=False, leak_check=False):
        cases.append(Case(label, lambda: call(port, method, path, body=body, headers=headers, timeout=TIMEOUT),
                          allow_200=allow_200, leak_check=leak_check))

    def raw(label, head, then_send=b"", allow_200=False, leak_check=False):
        cases.append(Case(label, lambda: raw_call(port, head, timeout=TIMEOUT, label=label, then_send=then_send),
                          allow_200=allow_200, leak_check=leak_check))

    # Oversized bodies on every route: 413 where the body is read; a route that takes no body may
    # ignore it (200), but must not reset, close or hang.
    some = targets[-1]
    all_routes = [("GET", "/health"), ("GET", "/health/ready"), ("GET", "/api/availability"),
                  ("GET", "/api/schedule"), ("POST", "/api/appointments"), ("GET", "/api/appointments"),
                  ("GET", f"/api/appointments/{some['id']}"), ("POST", None), ("POST", "/api/holds"),
                  ("DELETE", "/api/holds/no-such-hold"),
                  ("GET", "/api/notifications"), ("POST", f"/api/notifications/{notification_id}/retry"),
                  ("GET", "/api/openapi.json"), ("GET", "/metrics"), ("GET", "/"), ("GET", "/app.js"),
                  ("GET", "/styles.css")]
    big_note = "x" * (1024 * 1024)
    for method, path in all_routes:
        for size_label, note in (("a 16 KiB + 1 body", "n" * (16 * 1024)), ("a 1 MiB body", big_note)):
            if path is None:  # the cancel route, with its real token
                route_path, body = cancel_target()
                body = dict(body, note=note)
            elif path == "/api/appointments" and method == "POST":
                route_path, body = path, booking(note=note)
            else:
                route_path, body = path, {"note": note}
            data = json.dumps(body).encode()
            reads_body = method == "POST" and "/retry" not in route_path
            auth = {} if reads_body else admin
            raw(f"{method} {route_path} with {size_label}", head_bytes(method, route_path, dict(json_type, **auth),
                                                                        len(data)),
                then_send=data, allow_200=not reads_body)
    for route in ("booking", "hold", "cancel"):
        path, body, _ = body_route(route)
        raw(f"{route}: Content-Length of 1 TiB, 32 KiB sent", head_bytes("POST", path, json_type, 1 << 40),
            then_send=json.dumps(body).encode()[:-1] + b',"note":"' + b"x" * 32768)
        path, body, _ = body_route(route)
        data = json.dumps(dict(body, note=big_note)).encode()
        chunks = b"".join(b"%x\r\n" % len(data[i:i + 65536]) + data[i:i + 65536] + b"\r\n"
                          for i in range(0, len(data), 65536)) + b"0\r\n\r\n"
        raw(f"{route}: a 1 MiB chunked body", head_bytes("POST", path, json_type, None, chunked=True),
            then_send=chunks)

    # Bodies that are not what they claim, on the routes that read one; each would otherwise be valid.
    for route in ("booking", "hold", "cancel"):
        for depth_label, wrap in (("5,000 nested arrays", lambda t: b"[" * 5000 + t + b"]" * 5000),
                                  ("2,000 nested objects", lambda t: b'{"a":' * 2000 + t + b"}" * 2000),
                                  ("a field nested 3,000 deep",
                                   lambda t: t[:-1] + b',"note":' + b"[" * 3000 + b"]" * 3000 + b"}")):
            path, body, _ = body_route(route)
            http(f"{route}: {depth_label}", "POST", path, wrap(json.dumps(body).encode()), json_type)
        for junk_label, make in (("not JSON", lambda t: b"{slotStart:"), ("a JSON array", lambda t: b"[" + t + b"]"),
                                 ("a JSON string", lambda t: json.dumps(t.decode()).encode()),
                                 ("JSON null", lambda t: b"null"),
                                 ("trailing garbage", lambda t: t + b"xyz"),
                                 ("two objects", lambda t: t + t),
                                 ("a number of 400 digits", lambda t: t[:-1] + b',"note":' + b"9" * 400 + b"}"),
                                 ("an unknown field", lambda t: t[:-1] + b',"__proto__":{}}'),
                                 ("invalid UTF-8 in a string", None), ("an unpaired surrogate escape", None),
                                 ("a UTF-16 body", lambda t: t.decode().encode("utf-16")),
                                 ("a NUL byte outside strings", lambda t: t[:-1] + b"\x00}")):
            path, body, key = body_route(route)
            text = json.dumps(body).encode()
            if junk_label == "invalid UTF-8 in a string":
                data = text.replace(key + b': "', key + b': "\xff\xfe\xc0\xaf', 1)
            elif junk_label == "an unpaired surrogate escape":
                data = text.replace(key + b': "', key + b': "\\ud800', 1)
            else:
                data = make(text)
            http(f"{route}: {junk_label}", "POST", path, data, json_type)
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                             "application/json-seq", "text/json", "application/jsonx", "application/xml", None):
            path, body, _ = body_route(route)
            http(f"{route}: Content-Type {content_type or '(none)'}", "POST", path, json.dumps(body).encode(),
                 {"Content-Type": content_type} if content_type else {})
    http("booking: an empty body", "POST", "/api/appointments", b"", json_type)
    http("booking: an empty object", "POST", "/api/appointments", b"{}", json_type)
    first, second = pool.pop(), pool.pop()
    http("booking: duplicate slotStart keys", "POST", "/api/appointments",
         (f'{{"slotStart":"{first["start"]}","slotStart":"{second["start"]}","slotEnd":"{first["end"]}",'
          '"name":"Dup","email":"dup@example.com"}').encode(), json_type)
    first = pool.pop()
    http("booking: duplicate name keys", "POST", "/api/appointments",
         (f'{{"slotStart":"{first["start"]}","slotEnd":"{first["end"]}","name":"Alice","name":"Mallory",'
          '"email":"dup@example.com"}').encode(), json_type)
    for order in ("last", "first"):
        target = targets.pop()
        tokens = ["wrong-token", target["cancel_token"]][:: 1 if order == "last" else -1]
        http(f"cancel: duplicate token keys, the real one {order}", "POST", f"/api/appointments/{target['id']}/cancel",
             f'{{"token":"{tokens[0]}","token":"{tokens[1]}"}}'.encode(), json_type)

    # Control characters in the fields of a booking.
    for char_label, char in (("NUL", "\u0000"), ("ESC", "\u001b[31m"), ("DEL", "\u007f"), ("C1 NEL", "\u0085"),
                             ("bell", "\u0007")):
        http(f"booking: {char_label} in the name", "POST", "/api/appointments", booking(name=f"Hal{char}x"),
             json_type)
        http(f"booking: {char_label} in the email", "POST", "/api/appointments",
             booking(email=f"hal{char}@example.com"), json_type)
    http("booking: a line break in the name", "POST", "/api/appointments", booking(name="Hal\nSet-Cookie: x"),
         json_type)
    http("booking: a resource of ../default", "POST", "/api/appointments", booking(resource="../default"),
         json_type)
    http("booking: a 201-character name", "POST", "/api/appointments", booking(name="n" * 201), json_type)

    # Absurd instants and slots. A slot of its own for each, so a lenient parse books it (201).
    def fresh():
        slot = pool.pop()
        return slot, parse_instant(slot["start"])

    absurd = [("year 0", lambda s, t: ("0000-01-01T00:00:00Z", "0000-01-01T00:05:00Z")),
              ("year 9999", lambda s, t: ("9999-12-31T23:50:00Z", "9999-12-31T23:55:00Z")),
              ("1969", lambda s, t: ("1969-12-31T23:50:00Z", "1969-12-31T23:55:00Z")),
              ("Feb 30", lambda s, t: ("2027-02-30T10:00:00Z", "2027-02-30T10:05:00Z")),
              ("month 13", lambda s, t: ("2027-13-01T10:00:00Z", "2027-13-01T10:05:00Z")),
              ("year 275760", lambda s, t: ("+275760-09-13T00:00:00Z", "+275760-09-13T00:05:00Z")),
              ("a start with a trailing NUL", lambda s, t: (s["start"] + "\u0000", s["end"])),
              ("a start with trailing text", lambda s, t: (s["start"] + " or later", s["end"])),
              ("a 1 ms slot", lambda s, t: (s["start"], iso(t + timedelta(milliseconds=1)))),
              ("end before start", lambda s, t: (s["end"], s["start"])),
              ("a 10-year slot", lambda s, t: (s["start"], iso(t + timedelta(days=3652)))),
              ("a number instead of a date", lambda s, t: (int(t.timestamp() * 1000), s["end"])),
              ("an offset of +99:00", lambda s, t: (s["start"][:19] + "+99:00", s["end"][:19] + "+99:00"))]
    for date_label, make in absurd:
        slot_start, slot_end = make(*fresh())
        http(f"booking: {date_label}", "POST", "/api/appointments", booking(slotStart=slot_start, slotEnd=slot_end),
             json_type)
    # Hour 25 of the day before a free 01:00 slot: a lenient parser reads it as that slot.
    one_am = next(slot for slot in reversed(pool) if slot["start"][11:16] == "01:00")
    pool.remove(one_am)
    day_before = (parse_instant(one_am["start"]) - timedelta(days=1)).strftime("%Y-%m-%d")
    http("booking: hour 25", "POST", "/api/appointments",
         booking(slotStart=f"{day_before}T25:00:00Z", slotEnd=f"{day_before}T25:05:00Z"), json_type)
    http(f"booking: {overflow} (a day that does not exist, inside the horizon)", "POST", "/api/appointments",
         booking(slotStart=overflow_slot["start"].replace(overflow_slot["start"][:10], overflow),
                 slotEnd=overflow_slot["end"].replace(overflow_slot["start"][:10], overflow)), json_type)
    for date_label, from_text, to_text, allow in (
            ("a 10-year window", "2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z", True),
            ("a window from year 0", "0000-01-01T00:00:00Z", "9999-12-31T00:00:00Z", True),
            ("a window in 1969", "1969-12-31T00:00:00Z", "1969-12-31T23:00:00Z", True),
            ("a window ending before it starts", "2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z", True),
            ("Feb 30", "2027-02-30T00:00:00Z", "2027-03-02T00:00:00Z", False),
            (overflow, f"{overflow}T00:00:00Z", f"{overflow}T23:00:00Z", False),
            ("hour 25", "2027-01-01T25:00:00Z", "2027-01-03T00:00:00Z", False),
            ("not a date", "yesterday", "tomorrow", False),
            ("invalid UTF-8", "%FF%FE", "%C0%AF", False),
            ("a NUL", "2027-01-01T00:00:00Z%00", "2027-01-02T00:00:00Z", False)):
        http(f"availability: {date_label}", "GET", f"/api/availability?from={quote(from_text)}&to={quote(to_text)}",
             allow_200=allow)
    http("availability: resource ../../etc", "GET", "/api/availability?resource=..%2F..%2Fetc")
    http("availability: resource with a NUL", "GET", "/api/availability?resource=default%00")
    http("schedule: resource ../default", "GET", "/api/schedule?resource=..%2Fdefault")
    for bad in ("-1", "0", "99999999999999999999999", "%FF", "1%00"):
        http(f"notifications?appointment_id={bad}", "GET", f"/api/notifications?appointment_id={bad}", headers=admin)

    # Huge, negative and malformed ids on every id route (admin, so only the id can be wrong).
    some_id = some["id"]
    for bad in ("0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999999999", "1e3",
                "0x10", f"%20{some_id}", f"{some_id}%00", f"{some_id}.0", "%D9%A1", "..%2F1", "NaN"):
        http(f"GET /api/appointments/{bad}", "GET", f"/api/appointments/{bad}", headers=admin)
        http(f"POST /api/appointments/{bad}/cancel", "POST", f"/api/appointments/{bad}/cancel", headers=admin)
        http(f"POST /api/notifications/{bad}/retry", "POST", f"/api/notifications/{bad}/retry", headers=admin)
    for label, token in (("a 4 KiB token", "h" * 4096), ("../ in the token", "..%2F..%2Fappointments"),
                         ("a NUL in the token", "abc%00"), ("a space in the token", "a%20b")):
        http(f"DELETE a hold with {label}", "DELETE", f"/api/holds/{token}")
    for label, token in (("a 4 KiB hold token", "h" * 4096), ("a NUL in the hold token", "ab\u0000c"),
                         ("a number as the hold token", 7)):
        http(f"booking: {label}", "POST", "/api/appointments", booking(holdToken=token), json_type)
    http("an appointment with a 4 KiB wrong cancel token", "GET", f"/api/appointments/{some_id}",
         headers={"X-Cancel-Token": "A" * 4096})

    # Headers.
    http("booking: an Idempotency-Key of 10 KiB", "POST", "/api/appointments", booking(),
         {"Idempotency-Key": "k" * 10240})
    for key_label, key in (("invalid UTF-8", b"\xff\xfe"), ("a control character", b'"a\x01b"')):
        data = json.dumps(booking()).encode()
        raw(f"booking: an Idempotency-Key with {key_label}",
            head_bytes("POST", "/api/appointments", dict(json_type, **{"Idempotency-Key": key}), len(data)),
            then_send=data)
    http("admin: a Bearer token of 64 KiB", "GET", "/api/appointments",
         headers={"Authorization": "Bearer " + "t" * 65536})
    raw("a header of 1 MiB", head_bytes("GET", "/health", {"X-Big": b"b" * (1024 * 1024)}, None))

    # URLs: oversized, invalid bytes, control characters, traversal on the static files.
    raw("a 100 KiB URL", head_bytes("GET", "/api/availability?x=" + "a" * 102400, {}, None))
    raw("invalid UTF-8 bytes in the path", head_bytes("GET", b"/api/appointments/\xff\xfe", admin, None))
    raw("a control character in the path", head_bytes("GET", b"/api/\x01appointments", admin, None))
    for target in ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                   "/..%2f..%2f..%2fPackage.swift", "/app.js/../../Package.swift", "/app.js/..%2f..%2fPackage.swift",
                   "/.%2e/.%2e/Package.swift", "/%252e%252e/%252e%252e/etc/passwd", "//etc/passwd",
                   "/..\\..\\Package.swift", "/app.js%00.html", "/Public/../Package.swift", "/.git/config",
                   "/Sources/Examples/BookingServer/Public/app.js", "/styles.css/.", "/%2e%2e/.build"):
        raw(f"GET {target}", head_bytes("GET", target.encode(), {}, None), leak_check=True)
    return cases


def nonexistent_day(slots):
    """A day that does not exist (the 31st of a 30-day month, Feb 29 or 30) whose next day is inside
    the horizon, so a lenient parser reads it as a real, offered day: returns its `YYYY-MM-DD` and
    the offered slot at 12:00 of the day a lenient parser would take (e.g. 2026-11-31 -> 2026-12-01)."""
    by_start = {s["start"]: s for s in slots}
    first = parse_instant(slots[0]["start"])
    for months_ahead in range(1, 5):
        month_start = first.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
        for _ in range(months_ahead):
            month_start = (month_start + timedelta(days=32)).replace(day=1)
        last = month_start - timedelta(days=1)
        if last.day == 31:
            continue
        slot = by_start.get(iso(month_start))
        if slot:
            return f"{last.year:04d}-{last.month:02d}-{last.day + 1:02d}", slot
    raise DrillError("no nonexistent day whose next day is inside the horizon")


def head_bytes(method, path, headers, length, chunked=False):
    """A request head; header values may be bytes (sent as they are)."""
    target = path if isinstance(path, bytes) else path.encode()
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    for name, value in headers.items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
    elif length is not None:
        lines.append(b"Content-Length: " + str(length).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def quote(text):
    """Percent-encodes a query value, leaving %XX sequences the case wrote on purpose."""
    return text.replace(":", "%3A").replace("+", "%2B")
