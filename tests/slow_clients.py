#!/usr/bin/env python3
"""Slow and stalled clients against a server with short timeouts.

Run by tests/slow.sh:

    slow_clients.py HOST PORT HEADER_TIMEOUT BODY_TIMEOUT

Opens, at once: slowloris clients that send the request headers one byte
at a time, every 0.3 s, never finishing; and stalled clients that send
complete headers announcing a body, part of the body, then nothing. The
server must close each of them after about its timeout (the header or the
body timeout, within a margin), while ordinary requests on new
connections are answered quickly the whole time. Prints one line per
check with the measured times; exits 1 on a failure.
"""
import socket
import sys
import threading
import time

host, port = sys.argv[1], int(sys.argv[2])
header_timeout, body_timeout = float(sys.argv[3]), float(sys.argv[4])
SLOW = 10          # connections of each kind
MARGIN = 2.0       # seconds past the timeout still accepted
results = {"header": [], "body": []}
lock = threading.Lock()
failures = []


def closed_after(sock, feed, started):
    """Feed the socket until the server closes it; seconds it took."""
    sock.settimeout(0.3)
    deadline = started + 60
    while time.monotonic() < deadline:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
        try:
            feed(sock)
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    return None


def slowloris():
    s = socket.create_connection((host, port))
    started = time.monotonic()
    req = iter(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000)

    def feed(sock):
        sock.send(bytes([next(req)]))
    t = closed_after(s, feed, started)
    with lock:
        results["header"].append(t)
    s.close()


def stalled_body():
    s = socket.create_connection((host, port))
    started = time.monotonic()
    s.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: 100\r\n"
              b"\r\n{\"email\":")
    t = closed_after(s, lambda sock: None, started)
    with lock:
        results["body"].append(t)
    s.close()


def ordinary():
    """Seconds one GET /healthz on a new connection took, or None."""
    started = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError:
        return None
    if not data.startswith(b"HTTP/1.1 200"):
        return None
    return time.monotonic() - started


threads = [threading.Thread(target=slowloris) for _ in range(SLOW)]
threads += [threading.Thread(target=stalled_body) for _ in range(SLOW)]
for t in threads:
    t.start()
time.sleep(0.5)
served = []
while any(t.is_alive() for t in threads):
    served.append(ordinary())
    time.sleep(0.1)
for t in threads:
    t.join()

for kind, timeout in (("header", header_timeout), ("body", body_timeout)):
    times = results[kind]
    if any(t is None for t in times) or len(times) != SLOW:
        failures.append(kind)
        print("FAILED - %s: not every slow client was cut off: %s" % (kind, times))
        continue
    lo, hi = min(times), max(times)
    line = ("%d clients stalling the %s cut off after %.2f..%.2f s "
            "(%s_timeout_seconds %g)" % (SLOW, kind, lo, hi, kind, timeout))
    if lo < timeout - 0.5 or hi > timeout + MARGIN:
        failures.append(kind)
        print("FAILED - " + line)
    else:
        print("ok - " + line)

ok = [t for t in served if t is not None]
line = ("%d of %d ordinary requests answered meanwhile, slowest %.3f s"
        % (len(ok), len(served), max(ok) if ok else -1))
if len(ok) != len(served) or len(ok) < 5 or max(ok) > 1.0:
    failures.append("served")
    print("FAILED - " + line)
else:
    print("ok - " + line)
sys.exit(1 if failures else 0)
