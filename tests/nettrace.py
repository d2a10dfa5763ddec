"""Where a process (and every thread and child of it) tried to send anything on a network.

The process runs under ``strace -f``, tracing connect/sendto/sendmsg: native code (onnxruntime's
telemetry, a resolver called from C) is seen as well as Python's sockets, which no in-process
hook could promise. A destination other than this machine (127.0.0.0/8, ::1, an AF_UNIX socket)
is an outbound attempt, whether or not it succeeded. A DNS query (port 53) counts wherever it
goes, a local stub resolver included: looking a name up is the first step out.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

STRACE_ADVICE = ("strace is missing: install it (sudo apt-get install strace; `make test` does "
                 "so as root); the no-network tests trace every process with it")

_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?,\s*"([^"]+)"')
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")


@dataclass
class Traced:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    outbound: list[str]          # trace lines that sent to another machine


def strace() -> str:
    path = shutil.which("strace")
    if path is None:
        pytest.fail(STRACE_ADVICE)
    return path


def is_local(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def outbound(trace: str) -> list[str]:
    """The lines of an strace log that address a machine other than this one."""
    out = []
    for line in trace.splitlines():
        if "sa_family=AF_INET" not in line:
            continue
        addresses = [a or b for a, b in _ADDRESS.findall(line)]
        dns = any(port == "53" for port in _PORT.findall(line))
        if dns or not addresses or not all(is_local(a) for a in addresses):
            out.append(line.strip())
    return out


def run(args: Sequence[str], trace_file: Path, *, env: Mapping[str, str], cwd: Path,
        timeout: float = 180, input: str | None = None) -> Traced:
    """``args`` under strace; its output, and its outbound attempts."""
    cmd = [strace(), "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg",
           "-e", "signal=none", "-o", str(trace_file), *args]
    done = subprocess.run(cmd, env=dict(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, input=input)
    return Traced(list(args), done.returncode, done.stdout, done.stderr,
                  outbound(trace_file.read_text(errors="replace")))


def clean_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment of a child under test: nothing that would switch telemetry off for it
    (only the product may do that), no proxy, and our own folders."""
    env = {k: v for k, v in (base or os.environ).items()
           if k != "ORT_DISABLE_TELEMETRY" and "proxy" not in k.lower()}
    env.update(extra)
    return env
