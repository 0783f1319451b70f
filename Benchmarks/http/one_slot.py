#!/usr/bin/env python3
"""500 clients try to book one slot at the same moment over HTTP: exactly one must get 201, the rest 409.

    one_slot.py PORT SLOT_START_ISO SLOT_END_ISO [ATTEMPTS]

Opens every connection first, then sends all requests at once (standard library only: asyncio streams).
Prints one line: "one_slot: attempts=N 201=A 409=B other=C p50_ms=X p99_ms=Y max_ms=Z".
"""

import asyncio
import json
import sys
import time


async def connect(port, gate):
    async with gate:
        return await asyncio.open_connection("127.0.0.1", port)


async def attempt(stream, request, start_signal):
    reader, writer = stream
    await start_signal.wait()
    started = time.perf_counter()
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    elapsed = time.perf_counter() - started
    writer.close()
    parts = status_line.split()
    return (int(parts[1]) if len(parts) > 1 else 0), elapsed


async def main():
    port, slot_start, slot_end = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    attempts = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    gate = asyncio.Semaphore(64)
    streams = await asyncio.gather(*(connect(port, gate) for _ in range(attempts)))
    start_signal = asyncio.Event()
    tasks = []
    for index, stream in enumerate(streams):
        body = json.dumps(
            {"slotStart": slot_start, "slotEnd": slot_end, "name": f"Rush {index}", "email": "rush@example.com"}
        ).encode()
        request = (
            b"POST /api/appointments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        tasks.append(asyncio.create_task(attempt(stream, request, start_signal)))
    await asyncio.sleep(0.05)
    start_signal.set()
    results = await asyncio.gather(*tasks)
    statuses = [status for status, _ in results]
    latencies = sorted(elapsed * 1000 for _, elapsed in results)
    created, conflicts = statuses.count(201), statuses.count(409)

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    print(
        f"one_slot: attempts={attempts} 201={created} 409={conflicts} other={attempts - created - conflicts} "
        f"p50_ms={percentile(0.50):.1f} p99_ms={percentile(0.99):.1f} max_ms={latencies[-1]:.1f}"
    )


asyncio.run(main())
