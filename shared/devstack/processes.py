"""Child processes that die with their parent: no orphans when the supervisor is killed."""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgrp()  # own process group: Ctrl-C reaches only the supervisor, which stops children in order


def spawn(args: list[str], *, env: dict[str, str] | None = None, log_path: Path | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 -- handed to the child
    try:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                preexec_fn=_die_with_parent)
    finally:
        if log_path:
            out.close()


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# Below Linux's ephemeral range (32768+): outgoing connections never take these between our check and bind.
_LISTEN_RANGE = (20000, 32000)
_handed_out: set[int] = set()


def free_listen_port(host: str = "127.0.0.1", span: int = 1) -> int:
    """A port (and the `span - 1` after it) free to listen on, outside the ephemeral range, never handed
    out twice by this process: for servers we start ourselves."""
    for _ in range(1000):
        port = random.randrange(_LISTEN_RANGE[0], _LISTEN_RANGE[1] - span)
        block = range(port, port + span)
        if _handed_out.intersection(block) or any(not _bindable(host, p) for p in block):
            continue
        _handed_out.update(block)
        return port
    raise RuntimeError(f"no free block of {span} ports in {_LISTEN_RANGE}")


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0
