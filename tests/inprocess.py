"""Serving an ASGI app in a background thread on a free loopback port, for tests that need a real server
but not a separate process (the sandboxes in their own tests, small webhook receivers)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import uvicorn


def serve(app, name: str, start_timeout_s: float = 10.0) -> Iterator[str]:
    """Generator for a pytest fixture: yields the base URL, stops the server afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
