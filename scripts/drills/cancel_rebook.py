"""cancel-rebook: a booked slot is cancelled while 20 clients race to book it, on one instance or
spread over three on one PostgreSQL database.

Each racer starts before the cancel and keeps trying until it either wins or gets a 409 for an
attempt sent after the cancel was answered, so every racer sees the freed slot at least once.

Guarantees: exactly one 201 per freed slot, every other attempt 409, no 503 or other status; every
request (cancels included) answered within 2 s; the booking stored on each freed slot is the one
that got the 201, and nothing is stored that no client got a 201 for.
"""

import threading
import time

from .harness import (HANG_SECONDS, DrillError, Server, Verdict, examples, finish, log, problem_code, seconds,
                      status_counts)

RACERS = 20
ANSWER_BOUND = 2.0
# At small scale a racer waits twice the bound for an answer (slower is already a failure), then stops
# as `hang`; at full scale it waits HANG_SECONDS, longer than the server's own timeouts, so the
# report shows what the server finally answers. A round's racers give up after ROUND_SECONDS.
ROUND_SECONDS = 6.0


def run(context, variant):
    scale = context.scale
    rounds = 4 if scale == "small" else 15
    timeout = 2 * ANSWER_BOUND if scale == "small" else HANG_SECONDS
    instances = 1 if variant == "one" else 3
    verdict = Verdict(f"cancel-rebook {variant}")
    context.drill_dir(f"cancel-rebook-{variant}")
    try:
        cluster = context.cluster()
        store = cluster.fresh_database(f"rebook_{variant}")
        mark = cluster.log_mark()
        servers = [Server(context, store, f"instance-{i + 1}", dispatcher_id=f"drill-rebook-{i + 1}")
                   for i in range(instances)]
        for s in servers:
            s.start(90)
        slots = servers[0].availability()[:rounds]
        setup = {}
        for n, slot in enumerate(slots):
            answer = servers[0].book(slot, f"cr-setup-{n}", key=f"drill-cr-setup-{variant}-{n}")
            if answer.status != 201:
                raise DrillError(f"setup booking {slot['start']}: {answer.describe()}")
            setup[slot["start"]] = answer.json()["id"]

        answers = []  # every booking attempt; answer.tag names round, racer and attempt
        by_name = {}  # booking name -> its answer
        cancels = []
        rounds_of = {}  # slot start -> (round number, its answers)
        for number, slot in enumerate(slots):
            round_answers, cancel_answer = race(servers, slot, setup[slot["start"]], number, variant, timeout)
            answers += round_answers
            by_name.update((a.name, a) for a in round_answers)
            cancels.append(cancel_answer)
            rounds_of[slot["start"]] = (number, round_answers)
            if cancel_answer.status != 200:
                verdict.fail(f"round {number}: the cancel of #{setup[slot['start']]} answered "
                             f"{cancel_answer.describe()}{problem_code(cancel_answer)}")

        # Requests the racers stopped waiting for may still commit: let the servers finish them.
        appointments = settled_listing(servers[0])

        def who(appointment):
            answer = by_name.get(appointment["customer_name"])
            return (f"#{appointment['id']} by {answer.tag} ({answer.status or answer.error} after "
                    f"{answer.latency:.1f}s)" if answer else f"#{appointment['id']} {appointment['customer_name']!r}")

        booked = {}
        for a in appointments:
            if a["status"] == "booked":
                booked.setdefault(a["slot_start"], []).append(a)
        lost_rounds = []
        for slot in slots:
            number, round_answers = rounds_of[slot["start"]]
            wins = [a for a in round_answers if a.status == 201]
            stored = booked.get(slot["start"], [])
            if len(wins) == 1 and [s["id"] for s in stored] == [wins[0].json()["id"]]:
                continue
            lost_rounds.append(f"round {number} ({slot['start']}): {len(wins)} 201s "
                               f"({status_counts(round_answers)}), booked on it now: "
                               + (", ".join(who(s) for s in stored) or "nothing"))
        won = len(slots) - len(lost_rounds)
        for text in lost_rounds:
            log(f"cancel-rebook {variant}: {text}")
        if lost_rounds:
            verdict.fail(f"{len(lost_rounds)} of {len(slots)} freed slots did not go to exactly one 201: "
                         + "; ".join(lost_rounds[:3])
                         + (f"; and {len(lost_rounds) - 3} more rounds" if len(lost_rounds) > 3 else ""))

        verdict.figure("slots", len(slots))
        verdict.figure("won", won)
        verdict.figure("attempts", len(answers))
        verdict.figure("statuses", status_counts(answers).replace(" ", ","))
        others = [a for a in answers if a.status is not None and a.status not in (201, 409)]
        if others:
            logged = cluster.errors_since(mark)
            verdict.fail(f"{len(others)} attempts answered neither 201 nor 409 ({status_counts(others)}): "
                         + ", ".join(f"{a.tag}: {a.describe()}{problem_code(a)}" for a in others[:3])
                         + (f" (PostgreSQL logged: {logged})" if logged else ""))
        everything = answers + cancels
        verdict.figure("max-latency", seconds(max((a.latency for a in everything), default=0.0)))
        slow = sorted((a for a in everything if a.latency > ANSWER_BOUND), key=lambda a: -a.latency)
        if slow:
            verdict.fail(f"{len(slow)} requests not answered within {seconds(ANSWER_BOUND)} "
                         f"({sum(1 for a in slow if a.status is None)} not at all within {seconds(timeout)}): "
                         + ", ".join(f"{a.tag}: {a.describe()}" for a in slow[:3]))
        gave_up = [a for a in answers if a.tag.endswith("(gave up)")]
        verdict.check(not gave_up, f"{len(gave_up)} racers neither won nor saw a 409 after the cancel within "
                                   f"{seconds(ROUND_SECONDS)}: {examples(a.tag for a in gave_up)}")

        acknowledged = set(setup.values()) | {a.json()["id"] for a in answers if a.status == 201}
        strays = [a for a in appointments if a["id"] not in acknowledged]
        verdict.check(not strays, f"{len(strays)} stored appointments without a 201: "
                                  + ", ".join(who(a) for a in strays[:3]))
        finish(verdict, servers)
    except DrillError as error:
        verdict.fail(f"setup: {error}")
    return verdict


def race(servers, slot, booked_id, number, variant, timeout):
    """One round: RACERS clients hammer `slot` while its booking is cancelled; returns every attempt's
    answer and the cancel's answer."""
    answers = []
    lock = threading.Lock()
    cancel_done = {}
    go = threading.Barrier(RACERS + 1)

    def racer(index):
        server = servers[index % len(servers)]
        go.wait(10)
        deadline = time.monotonic() + ROUND_SECONDS
        for attempt in range(500):
            name = f"cr-{variant}-{number}-{index}-{attempt}"
            answer = server.book(slot, name, key=f"drill-{name}", timeout=timeout)
            answer.name = name
            answer.tag = f"round {number} racer {index} attempt {attempt} via {server.name}"
            with lock:
                answers.append(answer)
            if answer.status != 409:
                return  # won, or an answer the drill reports
            answered_at = cancel_done.get("at")
            if answered_at is not None and answer.sent > answered_at:
                return  # saw the slot taken after it was freed
            if time.monotonic() > deadline:
                answer.tag += " (gave up)"
                return
            time.sleep(0.002)

    threads = [threading.Thread(target=racer, args=(i,), daemon=True) for i in range(RACERS)]
    for t in threads:
        t.start()
    go.wait(10)
    time.sleep(0.02)  # the racers' first attempts are out: the cancel lands among them
    canceller = servers[number % len(servers)]
    cancel = canceller.post(f"/api/appointments/{booked_id}/cancel", admin=True, timeout=timeout)
    cancel.tag = f"round {number} cancel #{booked_id} via {canceller.name}"
    cancel_done["at"] = cancel.answered
    for t in threads:
        t.join(ROUND_SECONDS + timeout + 5)
    log(f"cancel-rebook {variant} round {number}: {status_counts(answers)}")
    return answers, cancel


def settled_listing(server, quiet=1.0, limit=15.0):
    """The admin listing once it has stopped changing for `quiet` seconds (at most `limit`)."""
    deadline = time.monotonic() + limit
    last = server.appointments()
    stable_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - stable_since < quiet:
        time.sleep(0.25)
        current = server.appointments()
        if current != last:
            last, stable_since = current, time.monotonic()
    return last
