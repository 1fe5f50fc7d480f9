#!/usr/bin/env python3
"""Hostile input through every text field of every JSON request body.

Run by tests/faults.sh against a server of its own on the demo data:

    faults_input.py URL

with DATABASE_URL (the schema owner) in the environment, to find real ids.
For each operation of the served spec (GET /openapi.json) with a JSON body,
it starts from the operation's request example, with the example's ids
replaced by real ones, and for each string in the body's schema (nested
objects and arrays included) sends the example with that string replaced
by each hostile value. Separately, for each operation, a body nested
10,000 deep and a huge array. Every answer must be a 2xx or a 4xx
problem+json: never a 5xx, never a closed connection without an answer.
A 2xx must give the value back verbatim where the answer carries the
field. Prints a status histogram per family; exits 1 on any failure.
"""
import http.client
import json
import os
import subprocess
import sys
import urllib.parse
import uuid
from collections import Counter, defaultdict

PLACEHOLDER = "\x01hostile-placeholder\x01"

# Family name -> the value put in a text field. Bytes are sent as they are,
# inside the JSON string (not valid UTF-8, so not valid JSON text).
VALUES = {
    "sql-drop": "'; DROP TABLE kw.notes; --",
    "sql-or": "' OR '1'='1",
    "nul": "a\u0000b",
    "bad-utf8": b"a\xc3\x28b",
    "1mib": "x" * (1024 * 1024 - 4096),
    "unicode": ("\U0001F468\u200D\U0001F469\u200D\U0001F467 \u202E\u200F"
                "\u05E9\u05DC\u05D5\u05DD e\u0301 \uFEFF\U0010FFFD "),
}


def die(msg):
    print("faults_input: " + msg, file=sys.stderr)
    sys.exit(2)


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port

    def send(self, method, path, body=None, token=None):
        """(status, content type, body bytes), or (None, error, b"")."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"connection": "close"}
        if body is not None:
            headers["content-type"] = "application/json"
        if token:
            headers["authorization"] = "Bearer " + token
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            return r.status, r.getheader("content-type") or "", data
        except (OSError, http.client.HTTPException) as e:
            return None, type(e).__name__, b""
        finally:
            conn.close()


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                          os.environ["DATABASE_URL"], "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return out.strip()


# Where operations that do not give their text back store it.
READ_BACK = {
    "/v1/episodes/{id}/access-requests": "kw.access_requests",
    "/v1/episodes/{id}/alerts": "kw.alerts",
}


def stored(table, column, value):
    """Whether a row of table holds value in column, byte for byte."""
    tag = "$h%s$" % uuid.uuid4().hex
    sql = "SELECT count(*) FROM %s t WHERE to_jsonb(t)->>'%s' = %s%s%s" % (
        table, column, tag, value, tag)
    out = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                          os.environ["DATABASE_URL"]], input=sql, check=True,
                         capture_output=True, text=True).stdout
    return int(out.strip()) > 0


def resolve(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            die("external $ref " + ref)
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        if seen > 50:
            die("$ref loop")
    return node


def string_paths(doc, schema, path=(), depth=0):
    """(path, maxLength) of every string: a path is a tuple of keys, and
    0 for an array's items."""
    s = resolve(doc, schema)
    if depth > 12 or not isinstance(s, dict):
        return []
    out = []
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in s.get(key, []):
            out += string_paths(doc, sub, path, depth + 1)
    t = s.get("type")
    types = t if isinstance(t, list) else [t]
    if "string" in types:
        out.append((path, s.get("maxLength")))
    if "object" in types or "properties" in s:
        for name, sub in s.get("properties", {}).items():
            out += string_paths(doc, sub, path + (name,), depth + 1)
    if "array" in types or "items" in s:
        if "items" in s:
            out += string_paths(doc, s["items"], path + (0,), depth + 1)
    seen, uniq = set(), []
    for p in out:
        if p[0] not in seen:
            seen.add(p[0])
            uniq.append(p)
    return uniq


def put(body, path, value):
    """A copy of body with value at path; missing containers are made."""
    body = json.loads(json.dumps(body))
    if not path:
        return value
    node = body
    for i, key in enumerate(path):
        last = i == len(path) - 1
        nxt = None if last else ({} if isinstance(path[i + 1], str) else [])
        if isinstance(key, int):
            if not isinstance(node, list):
                return None
            if not node:
                node.append(nxt)
            if last:
                node[0] = value
            else:
                if not isinstance(node[0], type(nxt)):
                    node[0] = nxt
                node = node[0]
        else:
            if not isinstance(node, dict):
                return None
            if last:
                node[key] = value
            else:
                if not isinstance(node.get(key), type(nxt)):
                    node[key] = nxt
                node = node[key]
    return body


def get(body, path):
    node = body
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or not node:
                return None
            node = node[0]
        else:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
    return node


def encode(body, value):
    """The request body with value at the placeholder, as bytes."""
    text = json.dumps(body, ensure_ascii=False).encode()
    inner = json.dumps(PLACEHOLDER)[1:-1].encode()
    if isinstance(value, bytes):
        return text.replace(inner, value)
    return text.replace(inner, json.dumps(value)[1:-1].encode())


def main():
    if len(sys.argv) != 2:
        die("usage: faults_input.py URL")
    c = Client(sys.argv[1])
    st, _, data = c.send("GET", "/openapi.json")
    if st != 200:
        die("GET /openapi.json: %s" % st)
    doc = json.loads(data)

    tokens = {}
    for who in ("keyworker", "teacher", "admin", "manager", "coordinator"):
        st, _, data = c.send("POST", "/v1/auth/login", json.dumps(
            {"email": who + "@example.org", "password": "keywork-demo"}).encode())
        if st != 200:
            die("sign-in as %s@: %s" % (who, st))
        tokens[who] = json.loads(data)["access_token"]

    # Real ids from the demo data, by the name of the field or parameter.
    row = psql("""
SELECT e.id, k.area_id, k.agency_id, t.id, d.id,
    (SELECT id FROM kw.members WHERE episode_id = e.id LIMIT 1),
    (SELECT id FROM kw.meetings WHERE episode_id = e.id LIMIT 1),
    (SELECT id FROM kw.actions WHERE episode_id = e.id LIMIT 1),
    (SELECT id FROM kw.alerts WHERE episode_id = e.id AND user_id = k.id LIMIT 1),
    (SELECT id FROM kw.access_requests LIMIT 1),
    (SELECT id FROM kw.outcome_areas LIMIT 1),
    (SELECT id FROM kw.notes WHERE episode_id = e.id LIMIT 1)
FROM kw.episodes e, kw.users k, kw.users t, kw.users d
WHERE e.family_name = 'Rivers' AND k.email = 'keyworker@example.org'
    AND t.email = 'teacher@example.org' AND d.email = 'dpo@example.org'""")
    (episode, area, agency, teacher, dpo, member, meeting, action, alert,
     access, oarea, note) = [x or str(uuid.uuid4()) for x in row.split("|")]
    by_field = {"area_id": area, "agency_id": agency, "user_id": teacher,
                "owner_user_id": teacher, "to_keyworker_id": teacher,
                "keyworker_id": teacher, "user_ids": teacher,
                "amends_note_id": note, "alert_user_ids": teacher}
    by_path = {"/v1/episodes/{id}": episode, "/v1/users/{id}": dpo,
               "/v1/meetings/{id}": meeting, "/v1/actions/{id}": action,
               "/v1/alerts/{id}": alert, "/v1/access-requests/{id}": access,
               "/v1/outcome-areas/{id}": oarea}

    def fix_ids(node, key=None):
        if isinstance(node, dict):
            return {k: fix_ids(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [fix_ids(v, key) for v in node]
        if key in by_field and isinstance(node, str):
            return by_field[key]
        return node

    def fill_path(path):
        out = path
        for prefix, real in by_path.items():
            if path.startswith(prefix):
                out = real.join(path.split("{id}", 1))
                break
        return (out.replace("{member_id}", member).replace("{user_id}", teacher)
                .replace("{name}", "review_interval_days")
                .replace("{id}", str(uuid.uuid4())))

    hist = defaultdict(Counter)
    failures = []
    verbatim = Counter()
    unechoed = []
    ops = 0
    fields = 0
    for tpl, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "requestBody" not in op:
                continue
            media = op["requestBody"].get("content", {}).get("application/json")
            if media is None:
                continue
            ops += 1
            ex = media.get("example")
            if ex is None and media.get("examples"):
                ex = next(iter(media["examples"].values()))["value"]
            base = fix_ids(ex if ex is not None else {})
            path = fill_path(tpl)
            m = method.upper()
            # The caller: the first whose example request is not refused
            # for who they are (the example itself may be a 2xx or a 4xx).
            token = None
            if op.get("security", doc.get("security")):
                for who, tok in tokens.items():
                    st, _, _ = c.send(m, path, json.dumps(base).encode(), tok)
                    if st not in (401, 403):
                        token = tok
                        break
                else:
                    token = tokens["keyworker"]

            def check(family, what, raw, value=None, fpath=None):
                st, ct, data = c.send(m, path, raw, token)
                hist[family][st if st is not None else "none"] += 1
                where = "%s %s %s" % (m, tpl, what)
                if st is None:
                    failures.append("%s: no answer (%s)" % (where, ct))
                elif st >= 500:
                    failures.append("%s: %d %s" % (where, st, data[:200]))
                elif 400 <= st < 500 and not ct.startswith("application/problem+json"):
                    failures.append("%s: %d with content type %r" % (where, st, ct))
                elif 200 <= st < 300 and value is not None and data:
                    try:
                        back = get(json.loads(data), fpath)
                    except ValueError:
                        back = None
                    if back is None and tpl in READ_BACK and fpath:
                        back = value if stored(READ_BACK[tpl], fpath[-1],
                                               value) else "(not found)"
                    if back is None:
                        verbatim["2xx, not checked"] += 1
                        unechoed.append("%s %s" % (m, tpl))
                    elif back == value:
                        verbatim["2xx, read back verbatim"] += 1
                    else:
                        failures.append("%s: 2xx but the value came back changed"
                                        % where)

            for fpath, maxlen in string_paths(doc, media.get("schema", {})):
                body = put(base, fpath, PLACEHOLDER)
                if body is None:
                    continue
                fields += 1
                ptr = "/" + "/".join(str(k) for k in fpath)
                for family, value in VALUES.items():
                    if family == "unicode":
                        # As long as the field takes, in code points.
                        n = min(maxlen or 20000, 20000)
                        value = (value * (n // len(value) + 1))[:n]
                    check(family, ptr, encode(body, value),
                          None if isinstance(value, bytes) else value, fpath)
            check("deep-nesting", "(depth 10,000)",
                  b"[" * 10000 + b"]" * 10000)
            first = next(iter(base), None) if isinstance(base, dict) else None
            deep = {**base, **({first: None} if first else {})}
            raw = json.dumps(deep).encode()
            if first:
                raw = raw.replace(b'"%s": null' % first.encode(),
                                  b'"%s": ' % first.encode() +
                                  b'{"a":' * 10000 + b'1' + b'}' * 10000)
            check("deep-nesting", "(a member 10,000 deep)", raw)
            check("huge-array", "(an array of 200,000 items)",
                  b"[" + b",".join([b'"x"'] * 200000) + b"]")
            if first:
                check("huge-array", "(a member of 200,000 items)",
                      json.dumps({**base, first: list(range(200000))}).encode())

    bad = 0
    for family in list(VALUES) + ["deep-nesting", "huge-array"]:
        h = hist[family]
        n = sum(h.values())
        worst = [k for k in h if k == "none" or (isinstance(k, int) and k >= 500)]
        bad += sum(h[k] for k in worst)
        print("   %-13s %5d requests: %s" % (family, n, ", ".join(
            "%s x%d" % (k, v) for k, v in sorted(h.items(), key=lambda kv: str(kv[0])))))
    print("   %d operations with a JSON body, %d text fields; 2xx: %s" % (
        ops, fields, ", ".join("%s %d" % kv for kv in sorted(verbatim.items())) or "none"))
    if unechoed:
        print("   not given back by: " + ", ".join(sorted(set(unechoed))))
    for f in failures[:20]:
        print("   " + f)
    if failures:
        print("   %d failures" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
