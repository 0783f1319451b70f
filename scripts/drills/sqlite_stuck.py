"""sqlite-stuck: another process holds SQLite's write lock (`BEGIN IMMEDIATE`, then nothing) longer
than the server's 5 s busy timeout, under a booking load.

Guarantees: while the lock is held, every booking is answered within BUSY_BOUND, with 503 and
Retry-After (or 201 once the lock is gone), never a hang or another status, and those sent more than
the busy timeout before the release are 503; reads (availability) keep answering 200 within 2 s
(WAL); once the lock is released bookings succeed within 5 s, and every one sent later succeeds;
every 201 is stored and no 503 is.
"""

import sqlite3
import threading
import time

from .harness import HANG_SECONDS, DrillError, Server, Verdict, examples, finish, log, seconds, status_counts

CLIENTS = 4
BUSY_TIMEOUT = 5.0  # SQLiteStore's default busy timeout
BUSY_BOUND = BUSY_TIMEOUT + 2.0  # a booking blocked by the lock is answered this soon
READ_BOUND = 2.0
RECOVERY_BOUND = 5.0


def run(context):
    scale = context.scale
    hold_seconds = 8.0 if scale == "small" else 15.0
    # Longer than the hold, so a booking blocked for the whole hold shows its answer, not a hang.
    timeout = hold_seconds + HANG_SECONDS
    verdict = Verdict("sqlite-stuck")
    context.drill_dir("sqlite-stuck")
    try:
        path = f"{context.workdir}/booking.sqlite"
        server = Server(context, f"sqlite:{path}", "server").start()
        slots = server.availability()
        warmup = server.book(slots[-1], "ss-warmup")
        if warmup.status != 201:
            raise DrillError(f"a booking before the lock: {warmup.describe()}")

        answers, reads = [], []
        lock = threading.Lock()
        stop = threading.Event()
        held = threading.Event()
        times = {}

        def holder():
            db = sqlite3.connect(path, timeout=10, isolation_level=None)
            try:
                db.execute("BEGIN IMMEDIATE")
                times["held"] = time.monotonic()
                held.set()
                time.sleep(hold_seconds)
                db.execute("ROLLBACK")
                times["released"] = time.monotonic()
            finally:
                db.close()

        def client(index):
            held.wait(15)
            for n, slot in enumerate(slots[index:-1:CLIENTS]):
                if stop.is_set():
                    return
                name = f"ss-{index}-{n}"
                answer = server.book(slot, name, key=f"drill-{name}", timeout=timeout)
                with lock:
                    answers.append(answer)
                time.sleep(0.05)

        def reader():
            held.wait(15)
            while not stop.is_set() and len(reads) < 1000:
                answer = server.get("/api/availability", timeout=HANG_SECONDS)
                with lock:
                    reads.append(answer)
                time.sleep(0.2)

        holding = threading.Thread(target=holder, daemon=True)
        holding.start()
        if not held.wait(15):
            raise DrillError("could not take the write lock with BEGIN IMMEDIATE")
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        threads.append(threading.Thread(target=reader, daemon=True))
        for t in threads:
            t.start()
        holding.join(hold_seconds + 15)
        if "released" not in times:
            raise DrillError("the lock holder did not finish")
        time.sleep(RECOVERY_BOUND + 2)
        stop.set()
        for t in threads:
            t.join(timeout + 5)
        held_at, released_at = times["held"], times["released"]
        log(f"sqlite-stuck: {len(answers)} bookings ({status_counts(answers)}), {len(reads)} reads")

        during = [a for a in answers if a.sent < released_at]
        after = [a for a in answers if a.sent >= released_at]
        verdict.figure("held", seconds(released_at - held_at))
        verdict.figure("during", status_counts(during).replace(" ", ","))
        verdict.figure("max-latency", seconds(max((a.latency for a in during), default=0.0)))
        wrong = [a for a in answers if a.status not in (201, 503)]
        if wrong:
            verdict.fail(f"{len(wrong)} bookings answered neither 201 nor 503 ({status_counts(wrong)}): "
                         + ", ".join(f"{a.tag} sent at {rel(a.sent, held_at)}: {a.describe()}" for a in wrong[:3]))
        slow = sorted((a for a in answers if a.latency > BUSY_BOUND), key=lambda a: -a.latency)
        if slow:
            verdict.fail(f"{len(slow)} bookings took longer than {seconds(BUSY_BOUND)} (busy timeout "
                         f"{seconds(BUSY_TIMEOUT)} + 2s): " + ", ".join(
                             f"{a.tag} sent at {rel(a.sent, held_at)} -> {a.status or a.error} after {a.latency:.1f}s"
                             for a in slow[:3]))
        must_503 = [a for a in during if a.sent < released_at - BUSY_TIMEOUT - 0.5]
        verdict.check(must_503, "no booking was sent early enough in the hold to need a 503")
        not_503 = [a for a in must_503 if a.status != 503]
        verdict.check(not not_503, f"{len(not_503)} bookings sent while the lock still had more than the busy "
                                   f"timeout to go were not 503 ({status_counts(not_503)}): "
                                   + examples(a.tag for a in not_503))
        no_retry_after = [a for a in answers if a.status == 503 and not a.headers.get("retry-after")]
        verdict.check(not no_retry_after, f"{len(no_retry_after)} 503s without Retry-After")

        slow_reads = [r for r in reads if r.status != 200 or r.latency > READ_BOUND]
        verdict.figure("reads", status_counts(reads).replace(" ", ","))
        verdict.check(not slow_reads, f"{len(slow_reads)} availability reads during the lock were not 200 within "
                                      f"{seconds(READ_BOUND)}: " + ", ".join(
                                          f"sent at {rel(r.sent, held_at)}: {r.describe()}" for r in slow_reads[:3]))

        first_201 = next((a for a in sorted(answers, key=lambda a: a.answered)
                          if a.answered >= released_at and a.status == 201), None)
        recovered = first_201.answered - released_at if first_201 else None
        verdict.figure("recovery", seconds(recovered) if recovered is not None else "never")
        verdict.check(recovered is not None and recovered <= RECOVERY_BOUND,
                      f"no booking succeeded within {seconds(RECOVERY_BOUND)} of the release"
                      + (f" (first after {seconds(recovered)})" if recovered is not None else
                         f" ({status_counts(after)})"))
        late_refusals = [a for a in after if a.sent > released_at + RECOVERY_BOUND and a.status != 201]
        verdict.check(not late_refusals, f"{len(late_refusals)} bookings sent more than {seconds(RECOVERY_BOUND)} "
                                         f"after the release failed: " + ", ".join(
                                             f"{a.tag}: {a.describe()}" for a in late_refusals[:3]))

        stored = {a["customer_name"]: a for a in server.appointments()}
        lost = [a for a in answers if a.status == 201 and a.tag not in stored]
        refused_stored = [a for a in answers if a.status == 503 and a.tag in stored]
        verdict.figure("lost", len(lost))
        verdict.figure("stored503", len(refused_stored))
        verdict.check(not lost, f"{len(lost)} acknowledged bookings lost: {[a.tag for a in lost[:3]]}")
        verdict.check(not refused_stored, f"{len(refused_stored)} bookings answered 503 but stored: "
                                          f"{[a.tag for a in refused_stored[:3]]}")
        finish(verdict, [server])
    except DrillError as error:
        verdict.fail(f"setup: {error}")
    return verdict


def rel(moment, origin):
    return f"lock{moment - origin:+.2f}s"
