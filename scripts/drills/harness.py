"""What every drill needs: an HTTP client that measures and never hangs, booking-server processes
on free ports, a throwaway PostgreSQL cluster, a Standard Webhooks receiver, and the verdict line.

Traffic goes only to 127.0.0.1. Every wait has a deadline and every loop a bound.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A request without an answer after this long is a hang (longer than any timeout the server has,
# so a slow answer and no answer are told apart).
HANG_SECONDS = 15.0
# The admin token every drill's server gets through BOOKING_ADMIN_TOKEN (16+ characters).
ADMIN_TOKEN = "drill-admin-" + secrets.token_hex(12)
# The shortest lease a dispatcher takes on a notification (15 s since leases cover one send and are
# renewed by a heartbeat; 60 s before): a second delivery of one notification sooner than this after
# the first means two dispatchers held it at once.
LEASE_SECONDS = 15.0
# The schedule every drill's server runs: every 5 minutes, all day, in UTC, so there are plenty
# of distinct slots (288 a day).
SLOT_MINUTES = 5


def log(message):
    print(f"[drill] {message}", file=sys.stderr, flush=True)


class DrillError(Exception):
    """Setup that could not be done: the drill fails with this sentence."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seconds(value):
    return f"{value:.1f}s"


def parse_instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# MARK: - HTTP client


class Answer:
    """One request's outcome: a status with headers and body, or an error kind
    (`hang`, `reset`, `refused`, `closed`, `error:...`), with monotonic send and answer times."""

    __slots__ = ("method", "path", "status", "headers", "body", "sent", "answered", "error", "tag", "name")

    def __init__(self, method, path, sent):
        self.method, self.path, self.sent = method, path, sent
        self.status, self.headers, self.body, self.answered, self.error = None, {}, b"", None, None
        self.tag = self.name = None  # what the drill calls the request, and the booking's name

    @property
    def latency(self):
        return (self.answered or time.monotonic()) - self.sent

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def describe(self):
        what = f"HTTP {self.status}" if self.status is not None else self.error
        return f"{self.method} {self.path} -> {what} after {self.latency:.2f}s"


def call(port, method, path, body=None, headers=None, timeout=HANG_SECONDS, admin=False):
    """Sends one request on a fresh connection. `body` may be bytes or a JSON-encodable object
    (sent as application/json). Never raises for what the server does: errors are in the Answer."""
    headers = dict(headers or {})
    if admin:
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    if body is not None and not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    answer = Answer(method, path, time.monotonic())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer.body = response.read()
        answer.status = response.status
        answer.headers = {k.lower(): v for k, v in response.getheaders()}
    except (socket.timeout, TimeoutError):
        answer.error = "hang"
    except ConnectionRefusedError:
        answer.error = "refused"
    except (ConnectionResetError, BrokenPipeError):
        answer.error = "reset"
    except http.client.RemoteDisconnected:
        answer.error = "closed"
    except (OSError, http.client.HTTPException) as error:
        answer.error = f"error:{type(error).__name__}"
    finally:
        answer.answered = time.monotonic()
        connection.close()
    return answer


def raw_call(port, data, timeout=HANG_SECONDS, label=None, then_send=b""):
    """Sends raw bytes (for what http.client refuses to send: bad bytes in a path, lying lengths),
    then reads until the server closes or the response is complete. `then_send` is written after
    the first bytes, and a failure to write it (the server answered and closed) is not an error."""
    answer = Answer("RAW", label or data.split(b"\r\n", 1)[0].decode("latin-1")[:80], time.monotonic())
    received = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            if then_send:
                try:
                    s.sendall(then_send)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
                if _complete(received):
                    break
            else:
                raise socket.timeout()
    except (socket.timeout, TimeoutError):
        answer.error = "hang" if not received else "hang-mid-response"
    except ConnectionRefusedError:
        answer.error = "refused"
    except (ConnectionResetError, BrokenPipeError):
        answer.error = "reset"
    except OSError as error:
        answer.error = f"error:{type(error).__name__}"
    answer.answered = time.monotonic()
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if lines and lines[0].startswith(b"HTTP/") and len(lines[0].split()) >= 2 and lines[0].split()[1].isdigit():
        # An answer the client could read counts, even if the connection was reset after it.
        answer.status = int(lines[0].split()[1])
        if answer.error == "reset" or _complete(received):
            answer.error = None
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            answer.headers[name.strip().lower()] = value.strip()
        answer.body = body
    elif answer.error is None:
        answer.error = "closed" if not received else "garbled"
    return answer


def _complete(received):
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return False
    return False


def booking_body(slot, name):
    """The POST /api/appointments body for `slot` (an availability entry), under a unique name."""
    return {"slotStart": slot["start"], "slotEnd": slot["end"], "name": name, "email": f"{name}@example.com"}


# MARK: - booking-server


def server_binary(path=None):
    binary = path or os.environ.get("BOOKING_DRILL_SERVER") or os.path.join(ROOT, ".build/debug/booking-server")
    if not os.access(binary, os.X_OK):
        if path or os.environ.get("BOOKING_DRILL_SERVER"):
            raise DrillError(f"no booking-server binary at {binary}")
        log("building booking-server (swift build --product booking-server)")
        subprocess.run(["swift", "build", "--product", "booking-server"], cwd=ROOT, check=True,
                       stdout=sys.stderr, stderr=sys.stderr)
    return binary


_help_cache = {}


def server_accepts(binary, flag):
    """Whether `booking-server serve --help` lists `flag` (e.g. --dispatcher-id)."""
    if binary not in _help_cache:
        result = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=30)
        _help_cache[binary] = result.stdout + result.stderr
    return flag in _help_cache[binary]


class Server:
    """One booking-server process on a free port of 127.0.0.1, logging to a file of the drill."""

    _started = []  # every process any drill started, so the runner can end them on exit

    def __init__(self, context, store, name, receiver=None, dispatcher_id=None, days_ahead=30, extra=()):
        self.context, self.store, self.name = context, store, name
        self.extra = list(extra)  # more flags, e.g. ["--shutdown-timeout-seconds", "3"]
        self.receiver, self.dispatcher_id, self.days_ahead = receiver, dispatcher_id, days_ahead
        self.process = None
        self.port = None
        self.log_path = os.path.join(context.workdir, f"{name}.log")
        self.starts = 0

    def arguments(self, port):
        args = [self.context.binary, "serve", "--store", self.store, "--host", "127.0.0.1", "--port", str(port),
                "--time-zone", "UTC", "--hours", "daily=00:00-24:00", "--slot-minutes", str(SLOT_MINUTES),
                "--days-ahead", str(self.days_ahead), "--log-level", "warning"]
        if self.receiver:
            args += ["--webhook-url", self.receiver.url, "--webhook-secret", self.receiver.secret]
        if self.dispatcher_id and server_accepts(self.context.binary, "--dispatcher-id"):
            args += ["--dispatcher-id", self.dispatcher_id]
        return args + self.extra

    def spawn(self):
        """Starts the process without waiting for it to listen."""
        self.port = self.port or free_port()
        self.starts += 1
        logfile = open(self.log_path, "ab")
        logfile.write(f"--- start {self.starts} on port {self.port}\n".encode())
        logfile.flush()
        env = dict(os.environ, BOOKING_ADMIN_TOKEN=ADMIN_TOKEN)
        for name in ("BOOKING_STORE", "BOOKING_PORT", "BOOKING_WEBHOOK_URL", "BOOKING_WEBHOOK_SECRET",
                     "BOOKING_CONFIG", "BOOKING_DISPATCHER_ID"):
            env.pop(name, None)
        self.process = subprocess.Popen(self.arguments(self.port), stdout=logfile, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, cwd=self.context.workdir)
        logfile.close()
        Server._started.append(self.process)
        self.spawned_at = time.monotonic()
        return self

    def wait_healthy(self, timeout=60.0):
        """Waits until GET /health answers 200; fails with the log's tail if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DrillError(f"{self.name} exited with {self.process.returncode} at start: {self.log_tail()}")
            if call(self.port, "GET", "/health", timeout=2.0).status == 200:
                self.healthy_at = time.monotonic()
                return self
            time.sleep(0.05)
        raise DrillError(f"{self.name} did not answer /health within {timeout:.0f}s: {self.log_tail()}")

    def start(self, timeout=60.0):
        """Starts and waits until healthy; a port taken in between is retried on another port."""
        for attempt in range(3):
            self.spawn()
            try:
                return self.wait_healthy(timeout)
            except DrillError:
                if self.process.poll() is not None and "ddress already in use" in self.log_tail() and attempt < 2:
                    self.port = None
                    continue
                raise

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.killed_at = time.monotonic()

    def stop(self, grace=10.0):
        """SIGTERM, then SIGKILL after `grace` seconds; returns how long a graceful stop took, or None
        when it needed the SIGKILL."""
        if not self.process or self.process.poll() is not None:
            return 0.0
        asked = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
            return time.monotonic() - asked
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop within {grace:.0f}s of SIGTERM; SIGKILL")
            self.process.kill()
            self.process.wait(timeout=10)
            return None

    def log_tail(self, lines=6):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " / ".join(text[-lines:]) or "(empty log)"

    def unexpected_log_lines(self, limit=3):
        """error/critical lines and crash traces from the server's log."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        found = [line for line in text if " error " in f" {line.lower()} " or "critical" in line.lower()
                 or "fatal error" in line.lower() or "crash" in line.lower()]
        return found[:limit]

    # The API, as the drills use it.

    def get(self, path, **options):
        return call(self.port, "GET", path, **options)

    def post(self, path, body=None, **options):
        return call(self.port, "POST", path, body=body, **options)

    def availability(self, margin_minutes=30):
        """The offered slots, minus those starting within `margin_minutes`, which could pass (and stop
        being offered) while a drill runs."""
        answer = self.get("/api/availability")
        if answer.status != 200:
            raise DrillError(f"{self.name}: availability answered {answer.describe()}")
        soon = datetime.now(timezone.utc).timestamp() + margin_minutes * 60
        return [s for s in answer.json() if parse_instant(s["start"]).timestamp() > soon]

    def book(self, slot, name, key=None, timeout=HANG_SECONDS):
        headers = {"Idempotency-Key": key} if key else {}
        answer = self.post("/api/appointments", booking_body(slot, name), headers=headers, timeout=timeout)
        answer.tag = answer.name = name
        return answer

    def listing(self, path="/api/appointments"):
        """An admin listing; retried for a few seconds, since a drill may have just restarted things."""
        deadline = time.monotonic() + 20
        while True:
            answer = self.get(path, admin=True)
            if answer.status == 200:
                return answer.json()
            if time.monotonic() > deadline:
                raise DrillError(f"{self.name}: admin listing {answer.describe()}")
            time.sleep(0.25)

    def appointments(self):
        return self.listing("/api/appointments")

    def notifications(self):
        return self.listing("/api/notifications")


class BookingClients:
    """`count` threads booking `slots` in turn (thread i takes slots[i::count]) on `server`, each booking named
    `<prefix>-<i>-<n>` with the idempotency key `drill-<name>`. `answers` holds every answer and `booked` each name's
    slot; `after(answer)` runs after each answer and returns True to end that thread (its server gone, say)."""

    def __init__(self, server, slots, count, prefix, after=lambda answer: False):
        self.server = server
        self.answers = []
        self.booked = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._after = after
        self._threads = [threading.Thread(target=self._book, args=(slots[i::count], f"{prefix}-{i}"), daemon=True)
                         for i in range(count)]

    def _book(self, slots, prefix):
        for n, slot in enumerate(slots):
            if self.stopping.is_set():
                return
            name = f"{prefix}-{n}"
            answer = self.server.book(slot, name, key=f"drill-{name}")
            with self.lock:
                self.answers.append(answer)
                self.booked[name] = slot
            if self._after(answer):
                return

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        """Ends every thread after its booking in flight (each is bounded by HANG_SECONDS)."""
        self.stopping.set()
        for thread in self._threads:
            thread.join(HANG_SECONDS + 5)

    def unsettled(self, in_doubt, stored, server=None):
        """Retries each answer of `in_doubt` with its key (on `server`, by default the one booked on) and returns
        `(retries by name, those the retry did not settle)`: a stored booking must answer 201 with its stored id, one
        not stored 201 or 409."""
        server = server or self.server
        retries = {a.tag: server.book(self.booked[a.tag], a.tag, key=f"drill-{a.tag}") for a in in_doubt}
        unsettled = [a for a in in_doubt
                     if not (retries[a.tag].status == 201 and retries[a.tag].json()["id"] == stored[a.tag]["id"]
                             if a.tag in stored else retries[a.tag].status in (201, 409))]
        return retries, unsettled


def finish(verdict, servers):
    """The end of a drill: each server must still be running (not crashed) and stop on SIGTERM
    (in-flight requests finished, dispatcher drained, pool closed) within 10 s."""
    for server in servers:
        if server.process.poll() is not None:
            verdict.fail(f"{server.name} exited with {server.process.returncode} during the drill: "
                         f"{server.log_tail()}")
            continue
        took = server.stop()
        verdict.check(took is not None, f"{server.name} did not stop within 10s of SIGTERM (graceful shutdown "
                                        f"hung; killed)")


def stop_all_servers():
    for process in Server._started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


# MARK: - PostgreSQL


class Cluster:
    """A throwaway PostgreSQL cluster, the way scripts/with-postgres makes one: initdb into a
    temporary directory (as the `postgres` user when run as root), trust auth, a free port on
    127.0.0.1; `stop()` and `start()` drive it for the outage drill; `destroy()` removes it."""

    def __init__(self):
        self.bin = self._find_bin()
        self.run_as = []
        self.root = tempfile.mkdtemp(prefix="booking-drill-pg.", dir="/tmp")
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.root, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.root, "data")
        self.port = free_port()
        self.databases = 0
        result = subprocess.run(self.run_as + [os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                                               "--auth=trust", "--encoding=UTF8", "--no-instructions"],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise DrillError(f"initdb failed: {result.stderr.strip()[-300:]}")
        self.start()

    @staticmethod
    def _find_bin():
        initdb = shutil.which("initdb")
        if initdb and shutil.which("pg_ctl"):
            return os.path.dirname(initdb)
        for version in sorted(os.listdir("/usr/lib/postgresql"), reverse=True) if os.path.isdir(
                "/usr/lib/postgresql") else []:
            candidate = f"/usr/lib/postgresql/{version}/bin"
            if os.access(os.path.join(candidate, "initdb"), os.X_OK):
                return candidate
        raise DrillError("no PostgreSQL server binaries (initdb, pg_ctl): install postgresql "
                         "(scripts/install-dependencies)")

    def pg_ctl(self, *args, timeout=90):
        return subprocess.run(self.run_as + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, *args],
                              capture_output=True, text=True, timeout=timeout)

    def start(self):
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=300 "
                   "-c fsync=on")
        result = self.pg_ctl("-l", os.path.join(self.root, "server.log"), "-w", "-t", "60", "-o", options, "start")
        if result.returncode != 0:
            raise DrillError(f"pg_ctl start failed: {result.stderr.strip()[-300:]}")

    def stop(self, mode="fast"):
        result = self.pg_ctl("-m", mode, "-w", "-t", "60", "stop")
        if result.returncode != 0:
            raise DrillError(f"pg_ctl stop failed: {result.stderr.strip()[-300:]}")

    def postmaster(self):
        """The postmaster's pid (the first line of postmaster.pid), or None."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def freeze(self, frozen):
        """SIGSTOP to every process of the cluster: connections stay open and nothing answers, as with a hung host or
        a network that drops packets. The postmaster first (it forks no new backend then), then its children until
        none is left running; each pid is added to `frozen` as it stops, so a caller's ``thaw`` reaches every one even
        when this fails half-way."""
        postmaster = self.postmaster()
        if postmaster is None:
            raise DrillError("no postmaster.pid: is the cluster running?")
        os.kill(postmaster, signal.SIGSTOP)
        frozen.append(postmaster)
        while True:
            found = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
            if found.returncode not in (0, 1):  # 1: no child; anything else, pgrep itself failed
                raise DrillError(f"pgrep failed ({found.returncode}): {found.stderr.strip()}")
            children = found.stdout.split()
            running = [int(pid) for pid in children if int(pid) not in frozen]
            if not running:
                return frozen
            for pid in running:
                try:
                    os.kill(pid, signal.SIGSTOP)
                    frozen.append(pid)
                except ProcessLookupError:
                    pass  # it ended in between: nothing to freeze or thaw

    @staticmethod
    def thaw(pids):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def psql(self, sql, database="postgres"):
        result = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                                 "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise DrillError(f"psql failed: {result.stderr.strip()[-300:]}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def log_mark(self):
        """A position in the server's log, for ``errors_since``."""
        try:
            return os.path.getsize(os.path.join(self.root, "server.log"))
        except OSError:
            return 0

    def errors_since(self, mark):
        """PostgreSQL's ERROR/FATAL messages logged since `mark`, counted: `deadlock detected x18`."""
        try:
            with open(os.path.join(self.root, "server.log"), "rb") as f:
                f.seek(mark)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        counts = {}
        for line in text.splitlines():
            for level in ("ERROR:", "FATAL:", "PANIC:"):
                if level in line:
                    message = line.split(level, 1)[1].strip()
                    if message.startswith(("conflicting key value", "duplicate key value")):
                        continue  # a 409, as it should be
                    counts[message] = counts.get(message, 0) + 1
        return ", ".join(f"{m} x{n}" for m, n in sorted(counts.items(), key=lambda kv: -kv[1])[:4])

    def fresh_database(self, label):
        """A new, empty database; returns the store URL booking-server takes."""
        self.databases += 1
        name = f"drill_{label.replace('-', '_')}_{self.databases}"
        self.psql(f'CREATE DATABASE "{name}"')
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def destroy(self, keep_log_in=None):
        if keep_log_in:
            shutil.copy(os.path.join(self.root, "server.log"), os.path.join(keep_log_in, "postgresql.log"))
        try:
            self.pg_ctl("-m", "immediate", "stop", timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def database_of(url):
    return url.rsplit("/", 1)[1].split("?", 1)[0]


# MARK: - webhook receiver


class WebhookReceiver:
    """A local Standard Webhooks endpoint (POST /hook) that records every delivery and verifies its
    signature: `webhook-signature` must hold a `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
    under the secret, and `webhook-timestamp` must be within 5 minutes of now."""

    def __init__(self):
        self.key = secrets.token_bytes(32)
        self.secret = "whsec_" + base64.b64encode(self.key).decode()
        self.deliveries = []  # dicts: id, at (monotonic), valid, problem, kind, notification_id, attempt
        self.lock = threading.Lock()
        self.hold_armed = False
        self.holding = threading.Event()  # a delivery is being held unanswered
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                if len(body) < length:
                    # The sender died mid-request (kill -9): no delivery happened, and it never saw an
                    # answer, so the notification is still owed. Nothing to verify or count.
                    return
                receiver.maybe_hold(receiver.record(self.path, self.headers, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A held delivery answers a sender that was killed meanwhile: that broken pipe is expected.
        self.server.handle_error = lambda request, client_address: None
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()

    def verify(self, path, headers, body):
        if path != "/hook":
            return f"posted to {path}"
        wid, stamp, signatures = (headers.get("webhook-id"), headers.get("webhook-timestamp"),
                                  headers.get("webhook-signature"))
        if not wid or not stamp or not signatures:
            return "a webhook header is missing"
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > 300:
            return f"webhook-timestamp {stamp!r} is not within 5 minutes of now"
        expected = base64.b64encode(hmac.new(self.key, f"{wid}.{stamp}.".encode() + body,
                                             hashlib.sha256).digest()).decode()
        for entry in signatures.split(" "):
            version, _, signature = entry.partition(",")
            if version == "v1" and hmac.compare_digest(signature, expected):
                return None
        return "no v1 signature matches"

    def record(self, path, headers, body):
        problem = self.verify(path, headers, body)
        delivery = {"id": headers.get("webhook-id"), "at": time.monotonic(), "valid": problem is None,
                    "problem": problem, "kind": None, "notification_id": None, "attempt": None, "answered": True}
        try:
            payload = json.loads(body)
            delivery.update(kind=payload.get("kind"), notification_id=payload.get("notification_id"),
                            attempt=payload.get("attempt"))
            if problem is None and str(payload.get("notification_id")) != delivery["id"]:
                delivery.update(valid=False, problem="notification_id differs from webhook-id")
        except (ValueError, AttributeError):
            delivery.update(valid=False, problem=delivery["problem"] or "the body is not JSON")
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    def hold_next(self):
        """Arms the receiver to keep the next delivery unanswered (until ``release``, 30 s at most),
        so the sender is caught mid-send; returns the event set once a delivery is held."""
        with self.lock:
            self.hold_armed = True
        return self.holding

    def maybe_hold(self, delivery):
        """Holds `delivery` when armed. It is released only after the sender was killed, which never
        sees the answer: the delivery is not acknowledged, and the notification is still owed."""
        with self.lock:
            hold, self.hold_armed = self.hold_armed, False
            if hold:
                delivery["answered"] = False
        if hold:
            self.holding.set()
            self.released.wait(30)

    def release(self):
        self.released.set()

    def snapshot(self):
        with self.lock:
            return list(self.deliveries)

    def first_arrivals(self):
        """{webhook-id: monotonic time of its first valid, acknowledged delivery}."""
        first = {}
        for delivery in self.snapshot():
            if delivery["valid"] and delivery["answered"] and delivery["id"] not in first:
                first[delivery["id"]] = delivery["at"]
        return first

    def wait_for(self, ids, deadline):
        """Waits until every id in `ids` was delivered (validly, acknowledged) or `deadline`
        (monotonic) passes; returns the ids still missing."""
        wanted = {str(i) for i in ids}
        while True:
            missing = wanted - set(self.first_arrivals())
            if not missing or time.monotonic() >= deadline:
                return missing
            time.sleep(0.1)

    def duplicates(self):
        """[(id, [deliveries])] of every id delivered (validly, acknowledged) more than once."""
        by_id = {}
        for delivery in self.snapshot():
            if delivery["valid"] and delivery["answered"]:
                by_id.setdefault(delivery["id"], []).append(delivery)
        return [(i, ds) for i, ds in by_id.items() if len(ds) > 1]

    def invalid(self):
        return [d for d in self.snapshot() if not d["valid"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# MARK: - checks shared by the drills


def overlaps(appointments):
    """Pairs of booked appointments of one resource whose slots overlap (the server runs without
    buffers, so the occupied interval is the slot)."""
    booked = sorted((a for a in appointments if a["status"] == "booked"),
                    key=lambda a: (a["resource"], parse_instant(a["slot_start"])))
    found = []
    for before, after in zip(booked, booked[1:]):
        if before["resource"] == after["resource"] and \
                parse_instant(after["slot_start"]) < parse_instant(before["slot_end"]):
            found.append((before["id"], after["id"]))
    return found


def notification_problems(appointments, notifications):
    """Appointments without exactly one `booked` notification, or (when cancelled) without exactly one
    `cancelled` one, or (when booked) with a `cancelled` one: [(appointment id, sentence)]."""
    counts = {}
    for n in notifications:
        counts.setdefault(n["appointment_id"], {}).setdefault(n["kind"], 0)
        counts[n["appointment_id"]][n["kind"]] += 1
    problems = []
    for a in appointments:
        c = counts.get(a["id"], {})
        if c.get("booked", 0) != 1:
            problems.append((a["id"], f"appointment {a['id']} has {c.get('booked', 0)} booked notifications"))
        want_cancelled = 1 if a["status"] == "cancelled" else 0
        if c.get("cancelled", 0) != want_cancelled:
            problems.append((a["id"], f"appointment {a['id']} ({a['status']}) has {c.get('cancelled', 0)} "
                                      "cancelled notifications"))
    return problems


def problem_code(answer):
    """`[SERVICE_UNAVAILABLE: the database is busy]`: the code and detail of a problem-details body."""
    body = answer.json()
    if isinstance(body, dict) and "code" in body:
        return f" [{body['code']}: {body.get('detail', '')}]"
    return ""


def examples(items, limit=3):
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def status_counts(answers):
    counts = {}
    for a in answers:
        key = str(a.status) if a.status is not None else a.error
        counts[key] = counts.get(key, 0) + 1
    return " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))


class Verdict:
    """The one line a drill prints: `drill NAME: PASS|FAIL key=value ... | failure; failure`."""

    def __init__(self, name):
        self.name = name
        self.figures = {}
        self.failures = []
        self.started = time.monotonic()

    def figure(self, key, value):
        self.figures[key] = value

    def fail(self, sentence):
        self.failures.append(sentence)
        log(f"{self.name}: FAIL: {sentence}")

    def check(self, condition, sentence):
        if not condition:
            self.fail(sentence)
        return condition

    @property
    def passed(self):
        return not self.failures

    def line(self):
        figures = " ".join(f"{k}={v}" for k, v in self.figures.items())
        text = f"drill {self.name}: {'PASS' if self.passed else 'FAIL'}" + (f" {figures}" if figures else "")
        text += f" runtime={seconds(time.monotonic() - self.started)}"
        if self.failures:
            text += " | " + "; ".join(self.failures)
        return text


class Context:
    """What the runner gives each drill: the server binary, the scale, a work directory, and the
    PostgreSQL cluster (started on first use, shared by the drills of one run, one fresh database each)."""

    def __init__(self, binary, scale, keep=False, verbose=False):
        self.binary, self.scale, self.keep, self.verbose = binary, scale, keep, verbose
        self.workroot = tempfile.mkdtemp(prefix="booking-drill.", dir="/tmp")
        self.workdir = self.workroot
        self._cluster = None

    def drill_dir(self, name):
        self.workdir = os.path.join(self.workroot, name)
        os.makedirs(self.workdir, exist_ok=True)
        return self.workdir

    def cluster(self):
        if self._cluster is None:
            log("starting a throwaway PostgreSQL cluster")
            self._cluster = Cluster()
        return self._cluster

    def close(self):
        stop_all_servers()
        if self._cluster is not None:
            self._cluster.destroy(keep_log_in=self.workroot if self.keep else None)
        if self.keep:
            log(f"kept the servers' logs and files in {self.workroot}")
        else:
            shutil.rmtree(self.workroot, ignore_errors=True)
