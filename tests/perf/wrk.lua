-- make bench: the requests wrk sends, from the environment.
--   BENCH_METHOD (GET): the method.
--   BENCH_REQUESTS: a file of requests, one per line, sent in turn:
--   "token<TAB>path<TAB>body" (the body may be empty). Each "@N@" in a body
--   becomes a value unique to the request (this run, this wrk thread, this
--   request), so that POST /v1/episodes registers a new family every time.
--   BENCH_DELAY_MS (0): a pause before each request, drawn from an
--   exponential distribution with this mean, so that requests arrive at a
--   chosen rate at random, as pgbench --rate sends them.
local method = os.getenv("BENCH_METHOD") or "GET"
local file = os.getenv("BENCH_REQUESTS")
local mean = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local reqs, nonce, n, i

function init(args)
	reqs = {}
	for line in io.lines(file) do
		local tok, path, body = string.match(line, "^([^\t]*)\t([^\t]*)\t?(.*)$")
		local headers = { ["Authorization"] = "Bearer " .. tok }
		if body == "" then
			body = nil
		else
			headers["Content-Type"] = "application/json"
		end
		table.insert(reqs, { path = path, headers = headers, body = body,
		    unique = body ~= nil and string.find(body, "@N@", 1, true) ~= nil })
	end
	nonce = tostring(os.time())
	n = 0
	i = tid or 0
	math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
	i = i % #reqs + 1
	local r = reqs[i]
	local body = r.body
	if r.unique then
		n = n + 1
		body = string.gsub(body, "@N@", nonce .. "x" .. tostring(tid) .. "x" .. tostring(n))
	end
	return wrk.format(method, r.path, r.headers, body)
end

if mean > 0 then
	function delay()
		return -math.log(1 - math.random()) * mean
	end
end
