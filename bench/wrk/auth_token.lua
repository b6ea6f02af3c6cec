-- wrk script: POST the form in TOKEN_BODY to the token endpoint given to wrk (client auth from -H).
-- done() prints one machine-readable RESULT line.
wrk.method = "POST"
wrk.body = os.getenv("TOKEN_BODY") or "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f non2xx=%d sock_errors=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
