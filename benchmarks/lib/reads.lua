-- wrk script of arm 6: GET /api/jobs/{job}/rows/{key} of random keys 1..READ_KEYS (the table's whole
-- key space: its ids are 1..rows), then one summary line the harness parses (done() sees every
-- thread's counts, including the non-2xx responses, which the harness refuses).
-- Environment: READ_KEYS (number of keys), READ_PATH (the path before the key).
local keys = tonumber(os.getenv("READ_KEYS"))
local prefix = os.getenv("READ_PATH")
local threads = 0

-- Each thread has its own Lua state: seed each differently, or every thread asks the same keys.
setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

init = function(args)
  math.randomseed(os.time() * 1000 + thread_id)
end

request = function()
  return wrk.format("GET", prefix .. math.random(1, keys))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SLUICE_WRK requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
