"""Starts a live booking-server for the Python tests (Tests/Browser, Tests/Calendar) and calls its JSON API."""
import json
import os
import shutil
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "browser-admin-token-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, headers=None):
    """Sends a JSON request; returns the status and the decoded JSON body."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def start_server(*arguments, environment=None):
    """Starts booking-server on a temporary SQLite file; yields its base URL, stops it afterwards.

    BOOKING_TEST_STORE names another store for it (`memory`, or a `postgres://` URL of an empty database).
    """
    binary = os.environ.get("BOOKING_SERVER_BINARY", str(ROOT / ".build" / "debug" / "booking-server"))
    directory = tempfile.mkdtemp(prefix="booking-server-")
    store = os.environ.get("BOOKING_TEST_STORE") or f"sqlite:{directory}/booking.sqlite"
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve", "--store", store, "--port", str(port), *arguments],
        env={**os.environ, "BOOKING_ADMIN_TOKEN": ADMIN_TOKEN, **(environment or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if call(base, "GET", "/health")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        process.kill()
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail("booking-server did not start")
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
