"""Real websocket clients for tests: each runs on one event loop in a thread of its
own, so the test's thread stays synchronous (Django's ORM refuses to run inside an
event loop) while the sockets keep listening. What each socket hears is kept."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from urllib.parse import urlencode

import websockets


class Sockets:
    def __init__(self, port: int):
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.open: dict[str, websockets.ClientConnection] = {}
        self.heard: dict[str, list[dict]] = {}
        self.lock = threading.Lock()

    def _run(self, coroutine, timeout: float = 15):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def connect(self, name: str, host: str, cookie: str | None, since: int | None = None) -> dict:
        """Open a socket as ``name`` and return the server's hello (raises if refused)."""
        query = f"?{urlencode({'since': since})}" if since is not None else ""

        async def opening():
            socket = await websockets.connect(
                f"ws://{host}:{self.port}/ws/notifications/{query}",
                additional_headers={"Cookie": cookie} if cookie else {}, host="127.0.0.1", port=self.port,
                open_timeout=10)
            hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
            self.open[name] = socket
            self.loop.create_task(self._listen(name, socket))
            return hello

        with self.lock:
            self.heard[name] = []
        return self._run(opening())

    async def _listen(self, name, socket):
        try:
            async for raw in socket:
                with self.lock:
                    self.heard[name].append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass

    def send(self, name: str, message: dict) -> None:
        self._run(self.open[name].send(json.dumps(message)))

    def messages(self, name: str, kind: str | None = None) -> list[dict]:
        with self.lock:
            return [m for m in self.heard[name] if kind is None or m["type"] == kind]

    def wait_for(self, name: str, kind: str, count: int = 1, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages(name, kind)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{name} heard {self.messages(name)} but not {count} × {kind}")

    def close(self, name: str) -> None:
        self._run(self.open.pop(name).close())

    def close_all(self) -> None:
        for name in list(self.open):
            self.close(name)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
