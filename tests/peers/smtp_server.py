#!/usr/bin/env python3
"""smtp_server: a small SMTP server (RFC 5321 subset) for the keywork tests.

It receives the reminder mail that keywork-worker sends through libcurl and
stores every accepted message as a file, so that a test can inspect what was
delivered.

Usage:
    smtp_server.py --port P --dir D [--tls-cert CERT --tls-key KEY]
                   [--require-tls] [--auth USER:PASS] [--refuse-file F]

  --port P         listen on 127.0.0.1:P (0 picks a free port)
  --dir D          store each accepted message as D/<counter>.eml
  --tls-cert/key   PEM certificate and key; enables STARTTLS
  --require-tls    refuse MAIL (530) until STARTTLS has been done
  --auth USER:PASS advertise AUTH PLAIN LOGIN and refuse MAIL (530) until
                   the client has authenticated with these credentials
  --refuse-file F  while F exists, answer every new connection with 421
                   and close it

Once listening it prints "ready <port>" on stdout. Each stored message
starts with these lines, followed by the message exactly as received
(after the dot-stuffing has been undone):

    X-Peer-Mail-From: <reverse path, without angle brackets>
    X-Peer-Rcpt-To: <forward paths, comma-separated>
    X-Peer-TLS: yes|no
    X-Peer-Auth: <user name or ->

Files appear atomically: they are written under a temporary name starting
with "." and ending in ".tmp", then renamed.

Supported commands: EHLO, HELO, STARTTLS, AUTH (PLAIN, LOGIN), MAIL, RCPT,
DATA, RSET, NOOP, VRFY, QUIT. SIGTERM and SIGINT stop the server cleanly.
"""

import argparse
import base64
import binascii
import itertools
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time

MAX_LINE = 4096            # command lines longer than this get 500
MAX_SIZE = 10485760        # advertised SIZE; larger messages get 552
IDLE_TIMEOUT = 300         # seconds a client may stay silent

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def log(msg):
    sys.stderr.write("smtp_server: %s\n" % msg)
    sys.stderr.flush()


def next_name():
    """A file name that sorts in arrival order and never repeats."""
    with _counter_lock:
        n = next(_counter)
    return "%013d-%06d-%d" % (int(time.time() * 1000), n, os.getpid())


def strip_path(arg):
    """Extract the address from '<addr> [params]' or 'addr [params]'.

    Returns (address, params) or None if the syntax is bad.
    """
    arg = arg.strip()
    if arg.startswith("<"):
        end = arg.find(">")
        if end < 0:
            return None
        return arg[1:end], arg[end + 1:].split()
    parts = arg.split()
    if not parts:
        return None
    return parts[0], parts[1:]


class LineTooLong(Exception):
    pass


class Session(socketserver.BaseRequestHandler):
    """One SMTP connection."""

    # ----- I/O ---------------------------------------------------------

    def reply(self, text):
        self.sock.sendall(text.encode("utf-8") + b"\r\n")

    def reply_multi(self, code, lines):
        out = []
        for i, line in enumerate(lines):
            sep = " " if i == len(lines) - 1 else "-"
            out.append("%d%s%s\r\n" % (code, sep, line))
        self.sock.sendall("".join(out).encode("utf-8"))

    def read_raw_line(self, limit):
        """Read one line (with its terminator). b"" on end of file.

        Raises LineTooLong after consuming the rest of an overlong line.
        """
        line = self.rfile.readline(limit + 1)
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                more = self.rfile.readline(65536)
                if not more or more.endswith(b"\n"):
                    break
            raise LineTooLong()
        return line

    def read_command(self):
        line = self.read_raw_line(MAX_LINE)
        if not line:
            return None
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    # ----- state -------------------------------------------------------

    def reset_transaction(self):
        self.mail_from = None
        self.rcpts = []

    def reset_session(self):
        self.greeted = False
        self.auth_user = None
        self.reset_transaction()

    # ----- main loop ---------------------------------------------------

    def handle(self):
        cfg = self.server.cfg
        self.sock = self.request
        self.sock.settimeout(IDLE_TIMEOUT)
        self.tls = False
        self.rfile = self.sock.makefile("rb")
        peer = "%s:%d" % self.client_address[:2]
        try:
            if cfg.refuse_file and os.path.exists(cfg.refuse_file):
                self.reply("421 4.3.2 Service not available, try later")
                return
            self.reset_session()
            self.reply("220 %s ESMTP keywork test peer" % cfg.hostname)
            self.loop()
        except (ConnectionError, socket.timeout, ssl.SSLError, OSError) as e:
            log("%s: connection ended: %s" % (peer, e))
        except Exception as e:  # never let one session take the server down
            log("%s: error: %r" % (peer, e))
        finally:
            try:
                self.rfile.close()
            except Exception:
                pass

    def loop(self):
        while True:
            try:
                line = self.read_command()
            except LineTooLong:
                self.reply("500 5.5.2 Line too long")
                continue
            if line is None:
                return
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            arg = arg.strip()
            handler = getattr(self, "cmd_" + verb, None) if verb.isalpha() \
                else None
            if handler is None:
                if verb in ("EXPN", "ETRN", "TURN", "BDAT", "HELP", "ATRN"):
                    self.reply("502 5.5.1 Command not implemented")
                else:
                    self.reply("500 5.5.2 Command not recognized")
                continue
            if handler(arg) is False:
                return

    # ----- commands ----------------------------------------------------

    def cmd_EHLO(self, arg):
        cfg = self.server.cfg
        if not arg:
            self.reply("501 5.5.4 Syntax: EHLO hostname")
            return
        self.greeted = True
        self.reset_transaction()
        lines = ["%s greets %s" % (cfg.hostname, arg)]
        if cfg.tls_ctx is not None and not self.tls:
            lines.append("STARTTLS")
        if cfg.auth and (self.tls or not cfg.require_tls):
            lines.append("AUTH PLAIN LOGIN")
        lines.append("8BITMIME")
        lines.append("SIZE %d" % MAX_SIZE)
        self.reply_multi(250, lines)

    def cmd_HELO(self, arg):
        if not arg:
            self.reply("501 5.5.4 Syntax: HELO hostname")
            return
        self.greeted = True
        self.reset_transaction()
        self.reply("250 %s" % self.server.cfg.hostname)

    def cmd_STARTTLS(self, arg):
        cfg = self.server.cfg
        if cfg.tls_ctx is None:
            self.reply("502 5.5.1 STARTTLS not available")
            return
        if self.tls:
            self.reply("503 5.5.1 TLS already active")
            return
        if arg:
            self.reply("501 5.5.4 Syntax: STARTTLS")
            return
        self.reply("220 2.0.0 Ready to start TLS")
        # Anything the client sent after STARTTLS in clear text is dropped.
        self.rfile.close()
        self.sock = cfg.tls_ctx.wrap_socket(self.sock, server_side=True)
        self.rfile = self.sock.makefile("rb")
        self.tls = True
        self.reset_session()

    def cmd_AUTH(self, arg):
        cfg = self.server.cfg
        if not cfg.auth:
            self.reply("502 5.5.1 AUTH not available")
            return
        if cfg.require_tls and not self.tls:
            self.reply("538 5.7.11 Encryption required for requested "
                       "authentication mechanism")
            return
        if not self.greeted:
            self.reply("503 5.5.1 Send EHLO first")
            return
        if self.auth_user is not None:
            self.reply("503 5.5.1 Already authenticated")
            return
        if self.mail_from is not None:
            self.reply("503 5.5.1 AUTH not permitted during a mail transaction")
            return
        parts = arg.split()
        if not parts or len(parts) > 2:
            self.reply("501 5.5.4 Syntax: AUTH mechanism [initial-response]")
            return
        mech = parts[0].upper()
        initial = parts[1] if len(parts) > 1 else None
        if mech == "PLAIN":
            resp = initial
            if resp is None:
                resp = self.challenge("")
                if resp is None:
                    return
            elif resp == "=":
                resp = ""
            try:
                decoded = base64.b64decode(resp, validate=True)
                authzid, user, password = decoded.split(b"\0")
                authzid = authzid.decode("utf-8")
                user = user.decode("utf-8")
                password = password.decode("utf-8")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                self.reply("501 5.5.2 Cannot decode response")
                return
            if authzid and authzid != user:
                self.reply("535 5.7.8 Authentication credentials invalid")
                return
        elif mech == "LOGIN":
            try:
                if initial is not None:
                    user_b64 = initial
                else:
                    user_b64 = self.challenge("VXNlcm5hbWU6")
                    if user_b64 is None:
                        return
                user = base64.b64decode(user_b64, validate=True).decode("utf-8")
                pass_b64 = self.challenge("UGFzc3dvcmQ6")
                if pass_b64 is None:
                    return
                password = base64.b64decode(pass_b64, validate=True) \
                    .decode("utf-8")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                self.reply("501 5.5.2 Cannot decode response")
                return
        else:
            self.reply("504 5.5.4 Unrecognized authentication type")
            return
        if (user, password) == cfg.auth:
            self.auth_user = user
            self.reply("235 2.7.0 Authentication successful")
        else:
            self.reply("535 5.7.8 Authentication credentials invalid")

    def challenge(self, text):
        """Send a 334 challenge; return the client's answer, or None after
        replying to a cancel or an end of file."""
        self.reply("334 " + text if text else "334 ")
        try:
            line = self.read_command()
        except LineTooLong:
            self.reply("500 5.5.6 Authentication exchange line too long")
            return None
        if line is None:
            raise ConnectionError("client closed during AUTH")
        line = line.strip()
        if line == "*":
            self.reply("501 5.7.0 Authentication cancelled")
            return None
        return line

    def cmd_MAIL(self, arg):
        cfg = self.server.cfg
        if not self.greeted:
            self.reply("503 5.5.1 Send EHLO/HELO first")
            return
        if cfg.require_tls and not self.tls:
            self.reply("530 5.7.0 Must issue a STARTTLS command first")
            return
        if cfg.auth and self.auth_user is None:
            self.reply("530 5.7.0 Authentication required")
            return
        if self.mail_from is not None:
            self.reply("503 5.5.1 Nested MAIL command")
            return
        if not arg.upper().startswith("FROM:"):
            self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
            return
        parsed = strip_path(arg[5:])
        if parsed is None:
            self.reply("501 5.1.7 Bad sender address syntax")
            return
        addr, params = parsed
        for p in params:
            key, _, value = p.partition("=")
            if key.upper() == "SIZE" and value.isdigit() \
                    and int(value) > MAX_SIZE:
                self.reply("552 5.3.4 Message size exceeds fixed limit")
                return
        self.mail_from = addr
        self.rcpts = []
        self.reply("250 2.1.0 Ok")

    def cmd_RCPT(self, arg):
        if self.mail_from is None:
            self.reply("503 5.5.1 Need MAIL command")
            return
        if not arg.upper().startswith("TO:"):
            self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
            return
        parsed = strip_path(arg[3:])
        if parsed is None or not parsed[0]:
            self.reply("501 5.1.3 Bad recipient address syntax")
            return
        self.rcpts.append(parsed[0])
        self.reply("250 2.1.5 Ok")

    def cmd_DATA(self, arg):
        if arg:
            self.reply("501 5.5.4 Syntax: DATA")
            return
        if self.mail_from is None:
            self.reply("503 5.5.1 Need MAIL command")
            return
        if not self.rcpts:
            self.reply("503 5.5.1 Need RCPT command")
            return
        self.reply("354 End data with <CR><LF>.<CR><LF>")
        chunks = []
        size = 0
        too_big = False
        # Lines are CRLF-terminated (RFC 5321 2.3.8): only CRLF "." CRLF ends
        # the data and only a "." right after a CRLF is a stuffed dot; a bare
        # LF is kept as message content.
        at_line_start = True
        while True:
            line = self.rfile.readline(65536)
            if not line:
                raise ConnectionError("client closed during DATA")
            if at_line_start:
                if line == b".\r\n":
                    break
                if line.startswith(b"."):
                    line = line[1:]
            at_line_start = line.endswith(b"\r\n")
            size += len(line)
            if size > MAX_SIZE:
                too_big = True
                chunks = []
            if not too_big:
                chunks.append(line)
        if too_big:
            self.reset_transaction()
            self.reply("552 5.3.4 Message size exceeds fixed limit")
            return
        name = self.store(b"".join(chunks))
        self.reset_transaction()
        self.reply("250 2.0.0 Ok: queued as %s" % name)

    def store(self, body):
        cfg = self.server.cfg
        name = next_name()
        header = (
            "X-Peer-Mail-From: %s\r\n"
            "X-Peer-Rcpt-To: %s\r\n"
            "X-Peer-TLS: %s\r\n"
            "X-Peer-Auth: %s\r\n" % (
                self.mail_from,
                ",".join(self.rcpts),
                "yes" if self.tls else "no",
                self.auth_user if self.auth_user is not None else "-",
            )
        ).encode("utf-8")
        tmp = os.path.join(cfg.dir, ".%s.tmp" % name)
        final = os.path.join(cfg.dir, "%s.eml" % name)
        with open(tmp, "wb") as f:
            f.write(header)
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, final)
        log("stored %s from <%s> to %s (%d bytes, tls=%s, auth=%s)" % (
            final, self.mail_from, ",".join(self.rcpts), len(body),
            "yes" if self.tls else "no", self.auth_user or "-"))
        return name

    def cmd_RSET(self, arg):
        self.reset_transaction()
        self.reply("250 2.0.0 Ok")

    def cmd_NOOP(self, arg):
        self.reply("250 2.0.0 Ok")

    def cmd_VRFY(self, arg):
        self.reply("252 2.5.2 Cannot VRFY user, but will accept message")

    def cmd_QUIT(self, arg):
        self.reply("221 2.0.0 Bye")
        return False


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        log("%s: unhandled error: %r" % (client_address, sys.exc_info()[1]))


class Config:
    pass


def parse_args():
    ap = argparse.ArgumentParser(description="SMTP test peer")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--require-tls", action="store_true")
    ap.add_argument("--auth", metavar="USER:PASS")
    ap.add_argument("--refuse-file")
    a = ap.parse_args()
    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if a.require_tls and not a.tls_cert:
        ap.error("--require-tls needs --tls-cert and --tls-key")
    if a.auth is not None and ":" not in a.auth:
        ap.error("--auth takes USER:PASS")
    return a


def main():
    a = parse_args()
    cfg = Config()
    cfg.dir = a.dir
    cfg.require_tls = a.require_tls
    cfg.refuse_file = a.refuse_file
    cfg.hostname = "localhost"
    cfg.auth = tuple(a.auth.split(":", 1)) if a.auth is not None else None
    cfg.tls_ctx = None
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        cfg.tls_ctx = ctx
    os.makedirs(cfg.dir, exist_ok=True)

    server = Server(("127.0.0.1", a.port), Session)
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
