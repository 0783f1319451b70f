"""pg-frozen: under a booking load, freeze PostgreSQL (SIGSTOP on every process of the cluster: connections stay open
and nothing answers, as with a hung host or a network that drops packets), then send the server SIGTERM.

Guarantees: the server exits within its `--shutdown-timeout-seconds` (SHUTDOWN_SECONDS here) plus STOP_MARGIN of the
SIGTERM, with status 0, and its log warns that it cut off what was in flight (without the timeout it waited out the
store's bound, 49 s for a booking); no request is answered other than 201 or 503. Once PostgreSQL runs again, every
201 is stored, no booking answered with a plain 503 is stored, and each booking cut off or answered "outcome unknown"
is settled by a retry with its idempotency key on a restarted server (201 with the stored id when it was stored, else
201 or 409).
"""

import time

from .harness import BookingClients, DrillError, Server, Verdict, examples, finish, log, seconds, server_accepts, \
    status_counts
from .pg_outage import says_unknown

CLIENTS = 8
SHUTDOWN_SECONDS = 3
STOP_MARGIN = 2.0  # the process's own exit after the cut-off: the pool, the log, the runtime


def run(context):
    before_seconds = 2.0 if context.scale == "small" else 8.0
    verdict = Verdict("pg-frozen")
    context.drill_dir("pg-frozen")
    if not server_accepts(context.binary, "--shutdown-timeout-seconds"):
        verdict.fail("this booking-server has no --shutdown-timeout-seconds")
        return verdict
    cluster = None
    frozen = []
    try:
        cluster = context.cluster()
        store = cluster.fresh_database("frozen")
        server = Server(context, store, "server", extra=["--shutdown-timeout-seconds", str(SHUTDOWN_SECONDS)]).start()
        slots = server.availability()

        # A client whose request got no answer ends: the server is going or gone, and its last booking is what it
        # settles.
        clients = BookingClients(server, slots, CLIENTS, "pf", after=lambda answer: answer.status is None).start()
        answers = clients.answers
        time.sleep(before_seconds)

        cluster.freeze(frozen)
        frozen_at = time.monotonic()
        time.sleep(1.0)  # every client now waits on the frozen database
        took = server.stop(grace=SHUTDOWN_SECONDS + STOP_MARGIN + 30)
        clients.stop()
        verdict.figure("shutdown", seconds(took) if took is not None else "killed")
        verdict.figure("exit", server.process.returncode)
        verdict.check(took is not None and took <= SHUTDOWN_SECONDS + STOP_MARGIN,
                      f"the server took {seconds(took) if took is not None else 'over 30 s (killed)'} to stop after "
                      f"SIGTERM with PostgreSQL frozen, over its {SHUTDOWN_SECONDS} s timeout and {seconds(STOP_MARGIN)}")
        verdict.check(server.process.returncode == 0, f"the server exited with {server.process.returncode}")
        with open(server.log_path, "rb") as f:
            server_log = f.read().decode("utf-8", "replace")
        verdict.check("cut off what was still in flight" in server_log,
                      "the server did not warn that it cut off what was in flight")

        cluster.thaw(frozen)
        frozen.clear()
        log(f"pg-frozen: PostgreSQL frozen for {time.monotonic() - frozen_at:.1f}s")

        verdict.figure("requests", len(answers))
        verdict.figure("statuses", status_counts(answers).replace(" ", ","))
        wrong = [a for a in answers if a.status is not None and a.status not in (201, 503)]
        verdict.check(not wrong, f"{len(wrong)} requests answered neither 201 nor 503: "
                                 f"{examples(a.describe() for a in wrong)}")

        # PostgreSQL runs again: a restarted server books, and every booking in doubt is settled by its key.
        server.start()
        stored = {a["customer_name"]: a for a in server.appointments()}
        acknowledged = [a for a in answers if a.status == 201]
        lost = [a for a in acknowledged if a.tag not in stored or stored[a.tag]["id"] != a.json()["id"]]
        verdict.figure("lost", len(lost))
        verdict.check(not lost, f"{len(lost)} acknowledged bookings lost: {examples(a.tag for a in lost)}")
        refused_stored = [a for a in answers if a.status == 503 and not says_unknown(a) and a.tag in stored]
        verdict.check(not refused_stored, f"{len(refused_stored)} bookings answered 503 but stored: "
                                          f"{examples(a.tag for a in refused_stored)}")
        in_doubt = [a for a in answers if a.status is None or (a.status == 503 and says_unknown(a))]
        retries, unsettled = clients.unsettled(in_doubt, stored)
        verdict.figure("in-doubt", f"{len(in_doubt)}({sum(1 for a in in_doubt if a.tag in stored)}stored)")
        verdict.check(not unsettled, f"{len(unsettled)} bookings in doubt were not settled by a retry with their key: "
                                     + ", ".join(f"{a.tag} ({'stored' if a.tag in stored else 'not stored'}) "
                                                 f"retried -> {retries[a.tag].describe()}" for a in unsettled[:3]))
        finish(verdict, [server])
    except DrillError as error:
        verdict.fail(f"setup: {error}")
    finally:
        if frozen:
            cluster.thaw(frozen)
    return verdict
