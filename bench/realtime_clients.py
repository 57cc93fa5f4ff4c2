"""The websocket clients of ``bench/realtime.py``, run by it as a process of their own.

    python bench/realtime_clients.py SPEC.json OUT.json

SPEC.json: {"url": "ws://<tenant host>:<port>/ws/notifications/", "port": <port>,
"concurrency": <connects in flight>, "clients": [[user_id, username, session_key], ...]}.
Every client connects to 127.0.0.1 with the tenant's host in the URL (the Host header)
and its session cookie, and waits for the server's hello. Then one line on stdout:
``ready <connected> <seconds> <failed>``. With ``"reconnect": true`` in the spec, a socket
the server closes (other than 4401/4404) is opened again as the console's script does
(``live.js``): backing off to at most 30 s with jitter, asking ``?since=<newest id seen>``
for what it missed; OUT.json then counts ``reconnected`` and lists when each came back (``reopened``).

For every ``{"type": "notification"}`` message a socket receives it keeps the user,
the notification's topic, case number and id, whether it came as ``missed``, and
``time.time()`` at receipt. Commands, one a line on stdin: ``count`` answers
``count <case.dispatch notifications received so far>``; ``distinct`` answers ``distinct <(user,
notification) pairs received, of any topic, each once>``; ``stop`` closes every socket,
writes OUT.json and answers ``done``.

No Django here: this process is only the browsers.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter

import websockets

CONNECT_ATTEMPTS = 5
FINAL_CLOSE_CODES = (4401, 4404)  # signed out, not a member here: the console does not come back


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class Clients:
    def __init__(self, spec: dict):
        self.spec = spec
        self.records: list[list] = []  # [user_id, topic, number, notification id, missed, time.time()]
        self.other = Counter()  # other message types received
        self.dispatch_count = 0
        self.sockets: list = []
        self.failed: list[str] = []
        self.closed_early: list[list] = []  # [user_id, username, code, reason, time.time()]
        self.hello_mismatch = 0
        self.stopping = False
        self.newest: dict[int, int] = {}  # user id → the newest notification id its socket saw
        self.reconnected = 0
        self.reopened: list[list] = []  # [user_id, time.time()] of each reconnection's hello
        self.distinct: set[tuple[int, int]] = set()  # (user id, notification id): one came live and as missed

    async def open_one(self, user_id: int, username: str, session: str, gate: asyncio.Semaphore,
                       attempts: int = CONNECT_ATTEMPTS) -> bool:
        error = ""
        since = self.newest.get(user_id)
        url = self.spec["url"] + (f"?since={since}" if since else "")
        for attempt in range(attempts):
            socket = None
            async with gate:
                try:
                    socket = await websockets.connect(
                        url, additional_headers={"Cookie": f"sessionid={session}"},
                        host="127.0.0.1", port=self.spec["port"], open_timeout=60, max_queue=None)
                    hello = json.loads(await asyncio.wait_for(socket.recv(), 60))
                except (TimeoutError, OSError, websockets.WebSocketException) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if socket is not None:
                        await socket.close()
                    socket = None
            if socket is None:
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            if hello.get("type") != "hello" or hello.get("user") != username:
                self.hello_mismatch += 1
            self.newest.setdefault(user_id, hello.get("newest") or 0)  # as the page starts its cursor
            self.sockets.append(socket)
            asyncio.get_running_loop().create_task(self.listen(user_id, username, socket, session))
            return True
        if attempts == CONNECT_ATTEMPTS:  # the first connection, not a reconnection's try
            self.failed.append(f"{username}: {error}")
        return False

    async def reconnect(self, user_id: int, username: str, session: str) -> None:
        retry = 0
        while not self.stopping:
            await asyncio.sleep(min(30.0, 2.0 ** retry) * (0.5 + random.random() / 2))
            retry += 1
            if not self.stopping and await self.open_one(user_id, username, session, asyncio.Semaphore(1), attempts=1):
                self.reconnected += 1
                self.reopened.append([user_id, time.time()])
                return

    async def listen(self, user_id: int, username: str, socket, session: str) -> None:
        try:
            async for raw in socket:
                received = time.time()
                message = json.loads(raw)
                if message.get("type") == "notification":
                    note = message["notification"]
                    self.records.append([user_id, note["topic"], note["number"], note["id"],
                                         bool(message.get("missed")), received])
                    if note["topic"] == "case.dispatch":
                        self.dispatch_count += 1
                    self.newest[user_id] = max(self.newest.get(user_id, 0), note["id"])
                    self.distinct.add((user_id, note["id"]))
                else:
                    self.other[message.get("type", "?")] += 1
        except websockets.ConnectionClosed:
            pass
        if not self.stopping:
            self.closed_early.append([user_id, username, socket.close_code, socket.close_reason, time.time()])
            if self.spec.get("reconnect") and socket.close_code not in FINAL_CLOSE_CODES:
                self.sockets.remove(socket)
                asyncio.get_running_loop().create_task(self.reconnect(user_id, username, session))

    async def run(self, out_path: str) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.spec["concurrency"])
        started = time.perf_counter()
        await asyncio.gather(*(self.open_one(*client, gate) for client in self.spec["clients"]))
        connect_seconds = time.perf_counter() - started
        print(f"ready {len(self.sockets)} {connect_seconds:.2f} {len(self.failed)}", flush=True)

        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = (await reader.readline()).decode().strip()
            if line == "count":
                print(f"count {self.dispatch_count}", flush=True)
            elif line == "distinct":
                print(f"distinct {len(self.distinct)}", flush=True)
            elif line in ("stop", ""):  # "" is the end of stdin: the driver has gone
                break
        self.stopping = True
        await asyncio.gather(*(socket.close() for socket in self.sockets), return_exceptions=True)
        with open(out_path, "w") as out:
            json.dump({"records": self.records, "other": dict(self.other), "connected": len(self.sockets),
                       "connect_seconds": connect_seconds, "failed": self.failed,
                       "closed_early": self.closed_early, "hello_mismatch": self.hello_mismatch,
                       "reconnected": self.reconnected, "reopened": self.reopened}, out)
        print("done", flush=True)


def main() -> int:
    spec_path, out_path = sys.argv[1], sys.argv[2]
    raise_open_files()
    with open(spec_path) as spec_file:
        spec = json.load(spec_file)
    asyncio.run(Clients(spec).run(out_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
