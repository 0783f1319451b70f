"""three-instances: three booking-server processes on one PostgreSQL database; clients book and
cancel through all three, many aiming at the same slots.

Variants: `staggered` (the first instance migrates, then the other two start) and `simultaneous`
(all three started at the same instant on a fresh database, so their migrations race).

Guarantees: every instance starts; no overlap; one notification per event (one `booked` per
appointment, one `cancelled` per cancelled one); every notification delivered; a duplicate
delivery only after a lease could have expired; every 201 and every cancel stored; nothing stored
that no client was told about; no 5xx.
"""

import random
import threading
import time

from .harness import (HANG_SECONDS, LEASE_SECONDS, DrillError, Server, Verdict, WebhookReceiver, examples, log,
                      finish, notification_problems, overlaps, problem_code, seconds, status_counts)
from .kill9 import describe_undelivered

INSTANCES = 3
DELIVERY_TARGET = 20.0  # seconds after the load ends


def run(context, variant):
    scale = context.scale
    clients = 16 if scale == "small" else 24
    load_seconds = 5.0 if scale == "small" else 30.0
    hot_slots = 24 if scale == "small" else 60
    verdict = Verdict(f"three-instances {variant}")
    context.drill_dir(f"three-instances-{variant}")
    receiver = WebhookReceiver()
    try:
        cluster = context.cluster()
        store = cluster.fresh_database(f"three_{variant}")
        mark = cluster.log_mark()
        servers = [Server(context, store, f"instance-{i + 1}", receiver=receiver,
                          dispatcher_id=f"drill-instance-{i + 1}") for i in range(INSTANCES)]
        start = time.monotonic()
        if variant == "simultaneous":
            barrier = threading.Barrier(INSTANCES)

            def spawn(server):
                barrier.wait(10)
                server.spawn()

            spawners = [threading.Thread(target=spawn, args=(s,)) for s in servers]
            for t in spawners:
                t.start()
            for t in spawners:
                t.join(30)
            start_errors = []
            for s in servers:
                try:
                    s.wait_healthy(90)
                except DrillError as error:
                    start_errors.append(str(error))
            if start_errors:
                raise DrillError("started at the same instant on a fresh database: " + "; ".join(start_errors))
        else:
            servers[0].start(90)
            for s in servers[1:]:
                s.start(90)
        verdict.figure("started", seconds(time.monotonic() - start))

        slots = servers[0].availability()[:hot_slots]
        answers = []  # every booking and cancel answer
        booked = {}  # appointment id -> name, from 201s
        cancelled = set()  # appointment ids a cancel answered 200 for
        lock = threading.Lock()
        deadline = time.monotonic() + load_seconds

        def cancel(server, appointment_id, token):
            answer = server.post(f"/api/appointments/{appointment_id}/cancel", headers={"X-Cancel-Token": token})
            answer.tag = f"cancel #{appointment_id} via {server.name}"
            with lock:
                answers.append(answer)
                if answer.status == 200:
                    cancelled.add(appointment_id)

        def client(index):
            local = random.Random(index)
            n = 0
            while time.monotonic() < deadline and n < 10_000:
                n += 1
                server = local.choice(servers)
                slot = local.choice(slots)
                name = f"ti-{index}-{n}"
                answer = server.book(slot, name, key=f"drill-{name}")
                answer.tag = f"book {slot['start']} via {server.name}"
                with lock:
                    answers.append(answer)
                if answer.status == 201:
                    body = answer.json()
                    with lock:
                        booked[body["id"]] = name
                    if local.random() < 0.8:
                        # Cancel it, often twice at once through two instances.
                        first, second = local.sample(servers, 2)
                        pair = [threading.Thread(target=cancel, args=(first, body["id"], body["cancel_token"]))]
                        if local.random() < 0.5:
                            pair.append(threading.Thread(target=cancel,
                                                         args=(second, body["id"], body["cancel_token"])))
                        for t in pair:
                            t.start()
                        for t in pair:
                            t.join(HANG_SECONDS + 5)

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(load_seconds + HANG_SECONDS + 10)
        load_end = time.monotonic()
        bookings = [a for a in answers if a.method == "POST" and a.path == "/api/appointments"]
        log(f"three-instances {variant}: {len(bookings)} bookings ({status_counts(bookings)}), "
            f"{len(answers) - len(bookings)} cancels")
        verdict.figure("requests", len(answers))
        verdict.figure("created", len(booked))
        verdict.figure("cancelled", len(cancelled))
        bad = [a for a in answers if a.status not in (200, 201, 409)]
        verdict.figure("errors", len(bad))
        if bad:
            logged = cluster.errors_since(mark)
            verdict.fail(f"{len(bad)} requests answered neither 200, 201 nor 409 ({status_counts(bad)}); first: "
                         + ", ".join(f"{a.tag}: {a.describe()}{problem_code(a)}" for a in bad[:3])
                         + (f" (PostgreSQL logged: {logged})" if logged else ""))

        appointments = servers[0].appointments()
        notifications = servers[0].notifications()
        by_id = {a["id"]: a for a in appointments}
        lost = [i for i in booked if i not in by_id]
        verdict.check(not lost, f"201s without a stored appointment: ids {examples(lost)}")
        uncancelled = [i for i in cancelled if i in by_id and by_id[i]["status"] != "cancelled"]
        verdict.check(not uncancelled, f"cancels answered 200 but still booked: ids {examples(uncancelled)}")
        by_name = {a.name: a for a in answers if a.name}
        unacknowledged = [a for a in appointments if a["id"] not in booked]
        verdict.check(not unacknowledged, f"{len(unacknowledged)} stored appointments no client got a 201 for: "
                                          + ", ".join(stored_by(a, by_name) for a in unacknowledged[:3]))
        pairs = overlaps(appointments)
        verdict.figure("overlaps", len(pairs))
        verdict.check(not pairs, f"overlapping booked appointments: {examples(pairs)}")
        problems = notification_problems(appointments, notifications)
        events = len(appointments) + sum(1 for a in appointments if a["status"] == "cancelled")
        verdict.figure("notifications", f"{len(notifications)}/{events}")
        verdict.check(not problems, "; ".join(p for _, p in problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))

        wanted = {str(n["id"]) for n in notifications}
        missing = receiver.wait_for(wanted, load_end + DELIVERY_TARGET)
        verdict.figure("delivered", f"{len(wanted) - len(missing)}/{len(wanted)}")
        if missing:
            verdict.fail(f"{len(missing)} notifications not delivered {seconds(DELIVERY_TARGET)} after the load: "
                         + describe_undelivered(context, store, missing))
        duplicates = receiver.duplicates()
        early = []
        for notification_id, deliveries in duplicates:
            gaps = [b["at"] - a["at"] for a, b in zip(deliveries, deliveries[1:])]
            if min(gaps) < LEASE_SECONDS:
                early.append(f"#{notification_id} delivered {len(deliveries)} times, "
                             f"attempts {[d['attempt'] for d in deliveries]}, {min(gaps):.1f}s apart")
        verdict.figure("duplicates", len(duplicates))
        verdict.check(not early, f"{len(early)} notifications delivered twice while a lease held "
                                 f"(< {LEASE_SECONDS:.0f}s apart): {examples(early)}")
        invalid = receiver.invalid()
        verdict.check(not invalid, f"{len(invalid)} deliveries failed verification: "
                                   f"{examples(d['problem'] for d in invalid)}")
        finish(verdict, servers)
    except DrillError as error:
        verdict.fail(f"setup: {error}")
    finally:
        receiver.close()
    return verdict


def stored_by(appointment, by_name):
    """`#655 booked on 2026-11-28T05:35:00.000Z by book ... via instance-2, answered 503 after 1.2s`."""
    text = f"#{appointment['id']} {appointment['status']} on {appointment['slot_start']}"
    answer = by_name.get(appointment["customer_name"])
    if answer is None:
        return f"{text} named {appointment['customer_name']!r}, which no client sent"
    return f"{text} by {answer.tag}, answered {answer.status or answer.error} after {answer.latency:.1f}s"
