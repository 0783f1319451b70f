"""pg-outage: under a booking load, stop PostgreSQL (`pg_ctl -m fast stop`) for 10 s, then start it.

Guarantees: every request, including those in flight at the stop, is answered within
ANSWER_BOUND: 201, or 503 with Retry-After (never another status, a reset or a hang);
/health/ready is 503 within 2 s of the stop; bookings succeed again within 5 s of the restart;
every 201 is stored, and no request answered 503 is stored unless its 503 says the outcome is unknown (the
database connection died after the booking was sent: PostgreSQL may commit, then end the connection for the
shutdown before answering); a retry of such a booking with its idempotency key answers it (201 with the stored
id when it was made, else 201 or 409).
"""

import threading
import time

from .harness import HANG_SECONDS, BookingClients, DrillError, Server, Verdict, examples, finish, log, seconds, status_counts

CLIENTS = 8
OUTAGE_SECONDS = 10.0
# Every request, in flight at the stop or sent during the outage: the store's bound is the wait for a
# pooled connection (PostgresStore.Configuration.connectionWaitTimeout, 2 s), plus 1 s for the rest.
ANSWER_BOUND = 3.0
READY_BOUND = 2.0  # /health/ready is 503 this soon after the stop
RECOVERY_BOUND = 5.0  # a booking succeeds this soon after the restart


def run(context):
    scale = context.scale
    before_seconds = 2.0 if scale == "small" else 10.0
    after_seconds = 6.0 if scale == "small" else 20.0
    verdict = Verdict("pg-outage")
    context.drill_dir("pg-outage")
    cluster = None
    stopped = False
    try:
        cluster = context.cluster()
        store = cluster.fresh_database("outage")
        server = Server(context, store, "server").start()
        slots = server.availability()

        probes = []

        def refused(answer):
            if answer.status is None and answer.error == "refused":
                time.sleep(0.1)  # the server itself is gone: counted below, do not spin
            return False

        clients = BookingClients(server, slots, CLIENTS, "po", after=refused)
        answers, stop = clients.answers, clients.stopping

        def ready_probe():
            while not stop.is_set() and len(probes) < 2000:
                probe = server.get("/health/ready", timeout=HANG_SECONDS)
                probes.append(probe)
                time.sleep(0.1)

        prober = threading.Thread(target=ready_probe, daemon=True)
        prober.start()
        clients.start()
        time.sleep(before_seconds)

        stop_at = time.monotonic()
        cluster.stop("fast")
        stopped = True
        stopped_in = time.monotonic() - stop_at
        time.sleep(max(0.0, stop_at + OUTAGE_SECONDS - time.monotonic()))
        restart_at = time.monotonic()
        cluster.start()
        stopped = False
        up_at = time.monotonic()
        log(f"pg-outage: stop took {stopped_in:.1f}s, start took {up_at - restart_at:.1f}s")
        time.sleep(after_seconds)
        clients.stop()
        prober.join(HANG_SECONDS + 5)

        # Every answer: 201, or 503 with Retry-After, within the bound; never a hang.
        during = [a for a in answers if a.answered >= stop_at and a.sent <= up_at]
        verdict.figure("requests", len(answers))
        verdict.figure("during", len(during))
        verdict.figure("statuses", status_counts(answers).replace(" ", ","))
        max_latency = max((a.latency for a in during), default=0.0)
        verdict.figure("max-latency", seconds(max_latency))
        wrong = [a for a in answers if a.status is not None and a.status not in (201, 503)]
        if wrong:
            verdict.fail(f"{len(wrong)} requests answered neither 201 nor 503 ({status_counts(wrong)}): "
                         + ", ".join(f"{a.tag} sent at {when(a, stop_at)}: {a.describe()}" for a in wrong[:3]))
        no_retry_after = [a for a in answers if a.status == 503 and not a.headers.get("retry-after")]
        verdict.check(not no_retry_after, f"{len(no_retry_after)} 503s without Retry-After: "
                                          f"{examples(a.tag for a in no_retry_after)}")
        slow = sorted((a for a in answers if a.status is not None and a.latency > ANSWER_BOUND),
                      key=lambda a: -a.latency)
        if slow:
            in_flight = [a for a in slow if a.sent < stop_at]
            verdict.fail(f"{len(slow)} requests ({len(in_flight)} in flight at the stop) took longer than "
                         f"{seconds(ANSWER_BOUND)}: " + ", ".join(
                             f"{a.tag} sent at {when(a, stop_at)} -> {a.status} after {a.latency:.2f}s"
                             + (f" ({detail(a)})" if detail(a) else "")
                             for a in slow[:3]))
        up_503 = [a for a in answers if a.status == 503 and (a.answered < stop_at or a.sent > up_at + RECOVERY_BOUND)]
        verdict.check(not up_503, f"{len(up_503)} 503s while PostgreSQL was up: "
                                  + ", ".join(f"{a.tag} sent at {when(a, stop_at)}" for a in up_503[:3]))

        # Readiness follows the database.
        # Probes run one after another, so one in flight at the stop (its answer a 503 up to 1 s later) may hold
        # back the first one sent after it: the first 503 answered after the stop counts, whenever it was sent.
        first_503 = next((p for p in probes if p.answered is not None and p.answered >= stop_at and p.status == 503),
                         None)
        ready_in = first_503.answered - stop_at if first_503 else None
        verdict.figure("ready503", seconds(ready_in) if ready_in is not None else "never")
        verdict.check(ready_in is not None and ready_in <= READY_BOUND,
                      f"/health/ready was not 503 within {seconds(READY_BOUND)} of the stop: "
                      + (f"first 503 {seconds(ready_in)} after it" if ready_in is not None else
                         f"never 503 ({status_counts([p for p in probes if stop_at <= p.sent <= up_at])})"))
        slow_probes = [p for p in probes if p.latency > READY_BOUND]
        longest = max((p.latency for p in slow_probes), default=0.0)
        verdict.check(not slow_probes, f"{len(slow_probes)} /health/ready probes took longer than {seconds(READY_BOUND)} "
                                       f"(longest {seconds(longest)}, {status_counts(slow_probes)})")

        # Bookings come back.
        first_201 = next((a for a in sorted(answers, key=lambda a: a.answered)
                          if a.sent >= up_at and a.status == 201), None)
        recovered_in = first_201.answered - up_at if first_201 else None
        verdict.figure("recovery", seconds(recovered_in) if recovered_in is not None else "never")
        verdict.check(recovered_in is not None and recovered_in <= RECOVERY_BOUND,
                      f"no booking succeeded within {seconds(RECOVERY_BOUND)} of the restart: "
                      + (f"the first after {seconds(recovered_in)}" if recovered_in is not None else
                         f"none in {seconds(after_seconds)} "
                         f"({status_counts([a for a in answers if a.sent >= up_at])})"))

        # Nothing acknowledged lost, nothing refused stored.
        stored = {a["customer_name"]: a for a in server.appointments()}
        acknowledged = [a for a in answers if a.status == 201]
        lost = [a for a in acknowledged if a.tag not in stored or stored[a.tag]["id"] != a.json()["id"]]
        refused_stored = [a for a in answers if a.status == 503 and a.tag in stored and not says_unknown(a)]
        unknown = [a for a in answers if a.status is None]
        verdict.figure("lost", len(lost))
        verdict.figure("stored503", len(refused_stored))
        verdict.figure("hangs", sum(1 for a in answers + probes if a.error == "hang"))
        verdict.check(not lost, f"{len(lost)} acknowledged bookings lost: "
                                + ", ".join(f"{a.tag} (#{a.json()['id']}, 201 at {when(a, stop_at, 'answered')})"
                                            for a in lost[:3]))
        verdict.check(not refused_stored, f"{len(refused_stored)} bookings answered 503 but stored: "
                                          + ", ".join(f"{a.tag} (sent at {when(a, stop_at)}, "
                                                      f"stored as #{stored[a.tag]['id']})"
                                                      for a in refused_stored[:3]))
        # A booking sent just before the stop may commit while its answer is lost with the connection: the 503
        # says the outcome is unknown, and a retry with its key answers that very booking.
        outcome_unknown = [a for a in answers if a.status == 503 and says_unknown(a)]
        retries, unsettled = clients.unsettled(outcome_unknown, stored)
        verdict.figure("unknown503", f"{len(outcome_unknown)}({sum(1 for a in outcome_unknown if a.tag in stored)}stored)")
        if outcome_unknown:  # when they were sent: in flight at the stop, not later in the outage
            verdict.figure("unknown-sent", when(max(outcome_unknown, key=lambda a: a.sent), stop_at))
        verdict.check(not unsettled, f"{len(unsettled)} bookings answered 503 with an unknown outcome were not settled "
                                     "by a retry with their key (stored: 201 with the stored id; else 201 or 409): "
                                     + ", ".join(f"{a.tag} ({'stored' if a.tag in stored else 'not stored'}) "
                                                 f"retried -> {retries[a.tag].describe()}" for a in unsettled[:3]))
        if unknown:
            verdict.fail(f"{len(unknown)} requests got no HTTP answer within {seconds(HANG_SECONDS)} "
                         f"({status_counts(unknown)}), "
                         f"{sum(1 for a in unknown if a.tag in stored)} of them stored: "
                         + ", ".join(f"{a.tag} sent at {when(a, stop_at)}" for a in unknown[:3]))
        finish(verdict, [server])
    except DrillError as error:
        verdict.fail(f"setup: {error}")
    finally:
        if stopped and cluster is not None:
            try:
                cluster.start()
            except DrillError as error:
                verdict.fail(f"could not restart PostgreSQL: {error}")
    return verdict


def detail(answer):
    """The `detail` of an answer's problem JSON, or an empty string."""
    body = answer.json()
    return str(body.get("detail", "")) if isinstance(body, dict) else ""


def says_unknown(answer):
    """Whether a 503 says the booking's outcome is unknown (its database connection died after the call was sent)."""
    return "whether it was made is unknown" in detail(answer)


def when(answer, origin, attribute="sent"):
    """An answer's send (or answer) time relative to the stop, e.g. `stop+1.20s`."""
    offset = getattr(answer, attribute) - origin
    return f"stop{offset:+.2f}s"
