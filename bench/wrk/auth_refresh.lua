-- wrk script: refresh_token grants, each refresh token used exactly once. Run with -t1.
-- A pool starts with the tokens in REFRESH_TOKENS_FILE (two per connection: wrk builds one request
-- per connection at start that it never sends); each request takes a token, each answer gives its
-- successor back. done() prints one machine-readable RESULT line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local pool = {}

init = function(args)
  for line in io.lines(os.getenv("REFRESH_TOKENS_FILE")) do table.insert(pool, line) end
end

request = function()
  local token = table.remove(pool) or "pool-exhausted"
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&client_id=first-party&refresh_token=" .. token)
end

response = function(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then table.insert(pool, token) end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f non2xx=%d sock_errors=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
