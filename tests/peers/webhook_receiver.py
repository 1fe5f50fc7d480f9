#!/usr/bin/env python3
"""webhook_receiver: an HTTP server that receives and checks the signed
webhooks keywork-worker posts, for the keywork tests.

Usage:
    webhook_receiver.py --port P --secret S --dir D [--delay-ms MS]
                        [--fail-first N]

  --port P        listen on 127.0.0.1:P (0 picks a free port)
  --secret S      the shared secret the signatures are made with
  --dir D         where requests.log and accepted.log are written
  --delay-ms MS   wait MS milliseconds before answering each POST
  --fail-first N  answer 503 to the first N valid POSTs

Once listening it prints "ready <port>" on stdout.

A webhook is a POST (to any path) carrying:

    Keywork-Event-Id: <uuid>
    Keywork-Event-Type: <type>
    Keywork-Timestamp: <unix seconds>
    Keywork-Signature: v1=<lowercase hex HMAC-SHA256>
    Content-Type: application/json

where the HMAC key is the secret (UTF-8) and the message is
timestamp + "." + the raw body. The body is a JSON object whose "id" and
"type" equal the two headers. The timestamp must be within 300 seconds of
the receiver's clock.

Answers:
    path starting with /fail           500 (always)
    valid, one of the first N valid    503 (with --fail-first N)
    valid                              204
    anything wrong                     401, text body saying why
    no Content-Length                  411
    body over 10 MiB                   413
    GET /health                        200 "ok"

Every POST appends one line to D/requests.log:

    <event_id or -> <type or -> <path> <status> sig:ok|sig:bad

("sig:ok" means the signature header matched the HMAC of the timestamp
and body) and every 204 also appends "<event_id> <type>" to
D/accepted.log. SIGTERM and SIGINT stop the server cleanly.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import socketserver
import sys
import threading
import time

MAX_BODY = 10 * 1024 * 1024
MAX_SKEW = 300

_log_lock = threading.Lock()
_count_lock = threading.Lock()


def log(msg):
    sys.stderr.write("webhook_receiver: %s\n" % msg)
    sys.stderr.flush()


def field(s):
    """Make a value safe for one whitespace-separated log field."""
    if s is None or s == "":
        return "-"
    return re.sub(r"[\s\x00-\x1f\x7f]", "_", s)


def append(path, line):
    with _log_lock:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "keywork-webhook-peer/1"
    timeout = 120  # idle keep-alive connections are dropped after this

    def log_message(self, fmt, *args):
        log("%s %s" % (self.address_string(), fmt % args))

    def send(self, status, text="", close=False):
        body = text.encode("utf-8")
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        if self.path.split("?", 1)[0] == "/health":
            self.send(200, "ok")
        else:
            self.send(404, "not found")

    do_HEAD = do_GET

    def read_body(self):
        """Return the body bytes, or an (status, why) tuple on failure."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(1024)
                if not size_line:
                    raise ConnectionError("client closed in chunked body")
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    return (400, "bad chunk size")
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n",
                                                            b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return (413, "body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return (411, "Content-Length required")
        try:
            n = int(cl)
            if n < 0:
                raise ValueError
        except ValueError:
            return (400, "bad Content-Length")
        if n > MAX_BODY:
            return (413, "body too large")
        body = self.rfile.read(n)
        if len(body) != n:
            raise ConnectionError("client closed in body")
        return body

    def verify(self, body):
        """Return (sig_ok, reason); reason is None when the request is
        valid."""
        cfg = self.server.cfg
        h = self.headers
        event_id = h.get("Keywork-Event-Id")
        event_type = h.get("Keywork-Event-Type")
        ts = h.get("Keywork-Timestamp")
        sig = h.get("Keywork-Signature")
        sig_ok = False
        if ts is not None and sig is not None:
            mac = hmac.new(cfg.secret, ts.encode("utf-8") + b"." + body,
                           hashlib.sha256).hexdigest()
            expect = ("v1=" + mac).encode("ascii")
            sig_ok = hmac.compare_digest(expect,
                                         sig.strip().encode("utf-8",
                                                            "replace"))
        missing = [name for name, v in (
            ("Keywork-Event-Id", event_id),
            ("Keywork-Event-Type", event_type),
            ("Keywork-Timestamp", ts),
            ("Keywork-Signature", sig)) if not v]
        if missing:
            return sig_ok, "missing header " + ", ".join(missing)
        ctype = h.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            return sig_ok, "Content-Type is not application/json"
        if not sig_ok:
            return sig_ok, "signature mismatch"
        if not re.fullmatch(r"[0-9]+", ts.strip()):
            return sig_ok, "timestamp is not unix seconds"
        if abs(time.time() - int(ts)) > MAX_SKEW:
            return sig_ok, "timestamp outside the %d s window" % MAX_SKEW
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return sig_ok, "body is not JSON"
        if not isinstance(doc, dict):
            return sig_ok, "body is not a JSON object"
        if doc.get("id") != event_id:
            return sig_ok, "body id does not match Keywork-Event-Id"
        if doc.get("type") != event_type:
            return sig_ok, "body type does not match Keywork-Event-Type"
        return sig_ok, None

    def do_POST(self):
        cfg = self.server.cfg
        path = self.path
        event_id = self.headers.get("Keywork-Event-Id")
        event_type = self.headers.get("Keywork-Event-Type")
        got = self.read_body()
        if isinstance(got, tuple):
            status, why = got
            self.record(event_id, event_type, path, status, False)
            self.send(status, why, close=True)
            return
        body = got
        if cfg.delay > 0:
            time.sleep(cfg.delay)
        sig_ok, reason = self.verify(body)
        if path.startswith("/fail"):
            status, text = 500, "failing on purpose"
        elif reason is not None:
            status, text = 401, reason
        else:
            with _count_lock:
                cfg.valid_seen += 1
                n = cfg.valid_seen
            if n <= cfg.fail_first:
                status, text = 503, "failing the first %d" % cfg.fail_first
            else:
                status, text = 204, ""
        self.record(event_id, event_type, path, status, sig_ok)
        if status == 204:
            append(os.path.join(cfg.dir, "accepted.log"),
                   "%s %s" % (field(event_id), field(event_type)))
        self.send(status, text)

    def record(self, event_id, event_type, path, status, sig_ok):
        append(os.path.join(self.server.cfg.dir, "requests.log"),
               "%s %s %s %d %s" % (field(event_id), field(event_type),
                                   field(path), status,
                                   "sig:ok" if sig_ok else "sig:bad"))


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        # Skip HTTPServer's reverse DNS lookup of the address.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "localhost"
        self.server_port = self.server_address[1]

    def handle_error(self, request, client_address):
        log("%s: connection error: %r" % (client_address,
                                          sys.exc_info()[1]))


class Config:
    pass


def main():
    ap = argparse.ArgumentParser(description="webhook test peer")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    a = ap.parse_args()

    cfg = Config()
    cfg.secret = a.secret.encode("utf-8")
    cfg.dir = a.dir
    cfg.delay = a.delay_ms / 1000.0
    cfg.fail_first = a.fail_first
    cfg.valid_seen = 0
    os.makedirs(cfg.dir, exist_ok=True)

    server = Server(("127.0.0.1", a.port), Handler)
    server.cfg = cfg

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it must not
        # run on the thread that is inside serve_forever().
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sys.stdout.write("ready %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
