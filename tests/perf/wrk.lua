-- make bench: the request wrk sends, from the environment.
--   BENCH_METHOD (GET) and BENCH_BODY (none, else JSON): the request. Each
--   "@N@" in the body becomes a value unique to the request (this run, this
--   wrk thread, this request), so that POST /v1/episodes registers a new
--   family every time.
--   BENCH_DELAY_MS (0): a pause before each request, drawn uniformly from
--   half to one and a half times this mean, so that the connections send
--   at a chosen rate, spread out rather than in step.
local method = os.getenv("BENCH_METHOD") or "GET"
local base = os.getenv("BENCH_BODY")
local mean = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local unique = base ~= nil and string.find(base, "@N@", 1, true) ~= nil
local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local nonce, n

function init(args)
	nonce = tostring(os.time())
	n = 0
	math.randomseed(os.time() * 1000 + (tid or 0))
	if base ~= nil then
		wrk.headers["Content-Type"] = "application/json"
	end
end

function request()
	local body = base
	if unique then
		n = n + 1
		local v = nonce .. "x" .. tostring(tid) .. "x" .. tostring(n)
		body = string.gsub(base, "@N@", v)
	end
	return wrk.format(method, nil, nil, body)
end

if mean > 0 then
	function delay()
		return mean * (0.5 + math.random())
	end
end
