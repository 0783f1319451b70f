"""The `scripts/drill` command line: one subcommand per drill, `all` for every one."""

import argparse
import signal
import sys
import time

from . import cancel_rebook, hostile, kill9, pg_frozen, pg_outage, sqlite_stuck, three_instances
from .harness import Context, DrillError, Verdict, log, seconds, server_accepts, server_binary

# name -> (variants, runner(context, variant), what it shows)
DRILLS = {
    "kill9": (["sqlite", "postgres"], kill9.run,
              "SIGKILL mid-load, restart: every 201 kept, one notification each, all delivered within 20 s"),
    "three-instances": (["staggered", "simultaneous"], three_instances.run,
                        "three servers on one PostgreSQL: no overlap, one notification per event, all delivered"),
    "pg-outage": ([None], lambda context, _: pg_outage.run(context),
                  "PostgreSQL stopped for 10 s under load: fast 503s, readiness, recovery, nothing lost"),
    "pg-frozen": ([None], lambda context, _: pg_frozen.run(context),
                  "PostgreSQL frozen (SIGSTOP) under load, then SIGTERM: the server stops within its shutdown timeout"),
    "cancel-rebook": (["one", "three"], cancel_rebook.run,
                      "20 clients race for each cancelled slot: exactly one 201, the rest 409, within 2 s"),
    "sqlite-stuck": ([None], lambda context, _: sqlite_stuck.run(context),
                     "another process holds SQLite's write lock past the busy timeout: 503s, then success"),
    "hostile": ([None], lambda context, _: hostile.run(context),
                "hostile requests on every route: a 4xx within 2 s, nothing changed"),
}


def main(argv):
    parser = argparse.ArgumentParser(
        prog="scripts/drill", description="Fault drills against a live booking-server (see README, Guarantees).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="drills:\n" + "\n".join(f"  {name:16} {summary}" for name, (_, _, summary) in DRILLS.items())
        + "\n\nEach prints one verdict line; the exit status is 1 when any drill fails.")
    parser.add_argument("drill", choices=["all", *DRILLS], help="which drill ('all' runs every drill and variant)")
    parser.add_argument("variant", nargs="?", help="kill9: sqlite|postgres; three-instances: staggered|"
                                                   "simultaneous; cancel-rebook: one|three (default: every variant)")
    parser.add_argument("--scale", choices=["small", "full"], default="small",
                        help="small: what CI runs (all drills in under 3 minutes); full: the README's figures")
    parser.add_argument("--server", help="the booking-server binary (default .build/debug/booking-server, "
                                         "built when missing; or BOOKING_DRILL_SERVER)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (server logs, SQLite files)")
    parser.add_argument("--verbose", action="store_true", help="log every request of the hostile drill")
    args = parser.parse_args(argv)

    plan = []
    for name, (variants, runner, _) in DRILLS.items():
        if args.drill not in ("all", name):
            continue
        chosen = variants
        if args.variant:
            if args.drill == "all" or args.variant not in variants:
                parser.error(f"{name} has the variants {', '.join(v for v in variants if v) or 'none'}")
            chosen = [args.variant]
        plan += [(name, variant, runner) for variant in chosen]

    # SIGTERM/SIGINT end the run through the same clean-up as an ordinary end.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))

    started = time.monotonic()
    try:
        binary = server_binary(args.server)
    except (DrillError, OSError) as error:
        print(f"drill {args.drill}: FAIL | setup: {error}", flush=True)
        return 1
    context = Context(binary, args.scale, keep=args.keep, verbose=args.verbose)
    log(f"{len(plan)} drills at scale {args.scale} with {binary}"
        + ("" if server_accepts(binary, "--dispatcher-id") else " (it takes no --dispatcher-id)"))
    failed = 0
    try:
        for name, variant, runner in plan:
            label = f"{name} {variant}" if variant else name
            log(f"== {label}")
            try:
                verdict = runner(context, variant)
            except Exception as error:  # an unexpected error is a failed drill, never a silent one
                verdict = Verdict(label)
                verdict.fail(f"the drill itself failed: {type(error).__name__}: {error}")
                import traceback
                traceback.print_exc(file=sys.stderr)
            print(verdict.line(), flush=True)
            failed += not verdict.passed
    finally:
        context.close()
    log(f"{len(plan) - failed} of {len(plan)} drills passed in {seconds(time.monotonic() - started)}")
    return 1 if failed else 0
