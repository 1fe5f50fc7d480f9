-- make bench: wrk -s tests/perf/create_note.lua -H "Authorization: ..." URL
-- POSTs one case note per request to the URL (/v1/episodes/{id}/notes).
-- No Idempotency-Key: every request adds a note.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"body":"Phoned the family to arrange the next home visit.","kind":"fact"}'
