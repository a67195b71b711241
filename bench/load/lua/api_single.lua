-- wrk script for the api_single scenario: POST one-row JSON bodies, cycling through a file
-- written by bench/run/crosscheck.py (one body per line), and print the figures as one JSON line.
--
-- Usage: wrk ... -s api_single.lua http://127.0.0.1:PORT -- BODIES_FILE [PATH]
--
-- Every request is built once, in init(): building one per request would cost wrk the CPU it
-- is meant to spare. Answers are not checked (wrk's Lua has no JSON parser), only counted by
-- status: wrk's own errors.status counts only codes over 399, so 1xx and 3xx would pass.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local bodies_file = args[1]
   local path = args[2] or "/api/predict"
   if not bodies_file then
      error("usage: wrk ... -s api_single.lua URL -- BODIES_FILE [PATH]")
   end
   local handle, why = io.open(bodies_file, "r")
   if not handle then
      error("cannot read the request bodies: " .. why)
   end
   prepared = {}
   for line in handle:lines() do
      if line ~= "" then
         local headers = { ["Content-Type"] = "application/json" }
         table.insert(prepared, wrk.format("POST", path, headers, line))
      end
   end
   handle:close()
   if #prepared == 0 then
      error("no request bodies in " .. bodies_file)
   end
   next_index = 0
   non_2xx = 0
end

function request()
   next_index = next_index % #prepared + 1
   return prepared[next_index]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
   end
end

-- The line bench/run/crosscheck.py looks for; microseconds, as wrk measures them.
function done(summary, latency, requests)
   local non_2xx_total = 0
   for _, thread in ipairs(threads) do
      non_2xx_total = non_2xx_total + (thread:get("non_2xx") or 0)
   end
   local e = summary.errors
   local fields = {
      string.format('"requests": %.17g', summary.requests),
      string.format('"duration_us": %.17g', summary.duration),
      string.format('"non_2xx": %.17g', non_2xx_total),
      string.format('"errors": {"connect": %.17g, "read": %.17g, "write": %.17g, '
         .. '"status": %.17g, "timeout": %.17g}', e.connect, e.read, e.write, e.status, e.timeout),
      string.format('"latency_us": {"p50": %.17g, "p90": %.17g, "p99": %.17g, "p999": %.17g, '
         .. '"max": %.17g, "mean": %.17g}', latency:percentile(50), latency:percentile(90),
         latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean),
   }
   io.write("crosscheck-json {" .. table.concat(fields, ", ") .. "}\n")
end
