"""kill9: SIGKILL the server in the middle of a booking load, while its dispatcher is mid-send (the
webhook receiver holds one delivery unanswered, so it is not acknowledged and still owed), and
restart it on the same store.

Guarantees: every acknowledged booking (201) is present with its slot; no two booked appointments
overlap; every appointment has exactly one `booked` notification; after the restart every
notification reaches the webhook receiver, within 20 s of the restart.
"""

import threading
import time

from .harness import (HANG_SECONDS, DrillError, Server, Verdict, WebhookReceiver, examples, finish,
                      log, notification_problems, overlaps, seconds, server_accepts)

CLIENTS = 16
DELIVERY_TARGET = 20.0  # seconds after the restart
FULL_SCALE_PATIENCE = 90.0  # at full scale, wait this long to tell a late notification from a lost one


def run(context, store_kind):
    scale = context.scale
    load_seconds = 3.0 if scale == "small" else 20.0
    verdict = Verdict(f"kill9 {store_kind}")
    context.drill_dir(f"kill9-{store_kind}")
    receiver = WebhookReceiver()
    try:
        if store_kind == "sqlite":
            store = f"sqlite:{context.workdir}/booking.sqlite"
        else:
            store = context.cluster().fresh_database("kill9")
        server = Server(context, store, "server", receiver=receiver, dispatcher_id="drill-kill9",
                        days_ahead=30 if scale == "small" else 90).start()
        slots = server.availability()
        if len(slots) < CLIENTS * 20:
            raise DrillError(f"only {len(slots)} slots are offered")

        acknowledged = {}  # appointment id -> the slot start asked for
        in_flight_at_kill = []
        failures = []  # answers that were neither 201 nor the connection dying at the kill
        lock = threading.Lock()
        stop = threading.Event()

        def client(index):
            mine = slots[index::CLIENTS]
            for n, slot in enumerate(mine):
                if stop.is_set():
                    return
                name = f"k9-{index}-{n}"
                answer = server.book(slot, name, key=f"drill-{name}")
                with lock:
                    if answer.status == 201:
                        acknowledged[answer.json()["id"]] = slot["start"]
                    elif stop.is_set() and answer.status is None:
                        in_flight_at_kill.append(name)  # cut off by the kill: either outcome is allowed
                    else:
                        failures.append(answer)
                        return

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(load_seconds)
        # Kill while the dispatcher is mid-send: the receiver holds one delivery unanswered, so that
        # notification (never acknowledged, so still owed) is leased by the process that dies.
        caught = receiver.hold_next().wait(10)
        stop.set()
        server.kill9()
        receiver.release()
        verdict.check(caught, f"no webhook delivery arrived within 10s after {seconds(load_seconds)} of load: "
                              "the dispatcher was not delivering")
        held = [d["id"] for d in receiver.snapshot() if not d["answered"]]
        for t in threads:
            t.join(HANG_SECONDS + 5)
        log(f"kill9 {store_kind}: {len(acknowledged)} acknowledged, {len(in_flight_at_kill)} cut off by SIGKILL")
        for answer in failures[:5]:
            verdict.fail(f"before the kill: {answer.describe()} ({answer.body[:120]!r})")

        delivered_before = set(receiver.first_arrivals())
        restart = time.monotonic()
        server.start()
        restarted_in = time.monotonic() - restart

        appointments = server.appointments()
        notifications = server.notifications()
        by_id = {a["id"]: a for a in appointments}
        missing = [i for i in acknowledged if i not in by_id]
        wrong_slot = [i for i, asked in acknowledged.items() if i in by_id and by_id[i]["slot_start"] != asked]
        not_booked = [i for i in acknowledged if i in by_id and by_id[i]["status"] != "booked"]
        present = len(acknowledged) - len(missing) - len(wrong_slot) - len(not_booked)
        verdict.figure("acknowledged", len(acknowledged))
        verdict.figure("present", present)
        verdict.check(not missing, f"acknowledged bookings lost after SIGKILL: ids {examples(sorted(missing))}")
        verdict.check(not wrong_slot, f"acknowledged bookings stored on another slot: ids {examples(wrong_slot)}")
        verdict.check(not not_booked, f"acknowledged bookings no longer booked: ids {examples(not_booked)}")
        unknown = [a["id"] for a in appointments if a["id"] not in acknowledged
                   and a["customer_name"] not in in_flight_at_kill]
        verdict.check(not unknown, f"stored appointments no client sent: ids {examples(unknown)}")

        pairs = overlaps(appointments)
        verdict.figure("overlaps", len(pairs))
        verdict.check(not pairs, f"overlapping booked appointments: {examples(pairs)}")

        problems = notification_problems(appointments, notifications)
        verdict.figure("notifications", f"{len(appointments) - len({i for i, _ in problems})}/{len(appointments)}")
        verdict.check(not problems, "; ".join(p for _, p in problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))

        # Every notification reaches the receiver within the target after the restart.
        wanted = {str(n["id"]) for n in notifications}
        patience = DELIVERY_TARGET if scale == "small" else FULL_SCALE_PATIENCE
        missing_ids = receiver.wait_for(wanted, restart + DELIVERY_TARGET)
        at_target = describe_undelivered(context, store, missing_ids) if missing_ids else ""
        if missing_ids and patience > DELIVERY_TARGET:
            missing_ids = receiver.wait_for(wanted, restart + patience)
        arrivals = receiver.first_arrivals()
        after_restart = [arrivals[i] - restart for i in wanted if i in arrivals and i not in delivered_before]
        recovery = max(after_restart) if after_restart else 0.0
        late = [i for i in wanted if i in arrivals and arrivals[i] - restart > DELIVERY_TARGET]
        verdict.figure("delivered", f"{len(wanted) - len(missing_ids)}/{len(wanted)}")
        duplicates = receiver.duplicates()
        verdict.figure("duplicates", len(duplicates))
        verdict.figure("recovery", seconds(recovery) if not missing_ids else f">{seconds(patience)}")
        verdict.figure("restart", seconds(restarted_in))
        verdict.figure("killed-mid-send", f"#{held[0]}" if held else "no")
        if missing_ids:
            verdict.fail(f"{len(missing_ids)} notifications not delivered {seconds(patience)} after the restart "
                         f"(target {seconds(DELIVERY_TARGET)}): {describe_undelivered(context, store, missing_ids)}")
        if late:
            verdict.fail(f"{len(late)} notifications delivered later than {seconds(DELIVERY_TARGET)} after the "
                         f"restart (the last at {seconds(recovery)}); at {seconds(DELIVERY_TARGET)} they were "
                         f"{at_target}")
        invalid = receiver.invalid()
        verdict.check(not invalid, f"{len(invalid)} deliveries failed verification: "
                                   f"{examples(d['problem'] for d in invalid)}")
        if not server_accepts(context.binary, "--dispatcher-id"):
            verdict.figure("dispatcher-id", "unsupported")
        finish(verdict, [server])
    except DrillError as error:
        verdict.fail(f"setup: {error}")
    finally:
        receiver.close()
    return verdict


def describe_undelivered(context, store, ids):
    """What the outbox says about undelivered notifications, read from the database itself (the
    admin API does not show leases), grouped: `18 pending, attempts 1, leased by dispatcher-8d78
    for 40s more (#387, #389, #390 and 15 more)`."""
    ids = sorted(ids, key=int)
    listed = ",".join(ids[:500])
    try:
        if store.startswith("sqlite:"):
            import sqlite3
            with sqlite3.connect(f"file:{store[len('sqlite:'):]}?mode=ro", uri=True, timeout=5) as db:
                now = int(time.time() * 1000)
                rows = db.execute(
                    f"SELECT id, status, attempts, lease_owner, (lease_expires_at - {now}) / 1000.0, error "
                    f"FROM notifications WHERE id IN ({listed}) ORDER BY id").fetchall()
        else:
            from .harness import database_of
            rows = context.cluster().psql(
                "SELECT id, status, attempts, lease_owner, "
                "round(extract(epoch FROM lease_expires_at - now())::numeric, 1), error "
                f"FROM notifications WHERE id IN ({listed}) ORDER BY id", database=database_of(store))
    except Exception as error:  # a diagnosis must never hide the failure itself
        return f"ids {examples(ids)} (outbox unreadable: {error})"
    groups = {}
    for notification_id, status, attempts, owner, expires_in, error in rows:
        key = (status, attempts, str(owner).split("/")[0] if owner else None, error)
        group = groups.setdefault(key, {"ids": [], "left": []})
        group["ids"].append(f"#{notification_id}")
        if owner:
            group["left"].append(float(expires_in))
    parts = []
    for (status, attempts, owner, error), group in groups.items():
        if owner:
            soonest, latest = min(group["left"]), max(group["left"])
            span = f"{soonest:.0f}s" if round(soonest) == round(latest) else f"{soonest:.0f}-{latest:.0f}s"
            lease = (f"leased by {owner} for {span} more" if soonest > 0
                     else f"lease of {owner} lapsed up to {-soonest:.0f}s ago")
        else:
            lease = "not leased"
        parts.append(f"{len(group['ids'])} {status}, attempts {attempts}, {lease}"
                     + (f", error {error}" if error else "") + f" ({examples(group['ids'])})")
    return "; ".join(parts)
