-- wrk script for bench/vs_kannel.sh: one send GET per message, each with its own destination
-- and text; counts the answers whose body starts as an accepted send does.
-- usage: wrk -t1 -c32 -d20s --latency -s send.lua URL -- PATH RUNTAG ACCEPT TEXT_PARAM TO_PARAM
--   PATH        path and fixed query, e.g. /sys/send.php?login=bench&psw=…   (to and text added)
--   RUNTAG      makes every text of this run distinct from other runs'
--   ACCEPT      Lua pattern an accepted body matches ('^OK', '^0: Accepted')
--   TEXT_PARAM  name of the text parameter (Tidings mes, Kannel text)
--   TO_PARAM    name of the destination parameter (Tidings phones, Kannel to)
local threads = {}
local tcount = 0

function setup(thread)
  thread:set("tid", tcount)
  tcount = tcount + 1
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] or "/"
  runtag = args[2] or "r"
  accept = args[3] or "."
  textparam = args[4] or "text"
  toparam = args[5] or "to"
  n = 0
  ok = 0
  bad = 0
  sample = nil
end

function request()
  n = n + 1
  -- a Russian mobile number per request: 79 + thread (2 digits) + counter (7 digits)
  local path = string.format("%s&%s=79%02d%07d&%s=bench+%s+%d+%d+hello+world",
                             prefix, toparam, tid % 100, n % 10000000, textparam, runtag, tid, n)
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status >= 200 and status < 300 and string.find(body, accept) then
    ok = ok + 1
  else
    bad = bad + 1
    if sample == nil then sample = tostring(status) .. " " .. string.sub(body, 1, 120) end
  end
end

function done(summary, latency, requests)
  local tok, tbad = 0, 0
  local smp = ""
  for _, t in ipairs(threads) do
    tok = tok + t:get("ok")
    tbad = tbad + t:get("bad")
    local s = t:get("sample")
    if s then smp = s end
  end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT requests=%d accepted=%d rejected=%d socket_errors=%d " ..
    "duration_s=%.3f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, tok, tbad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  if smp ~= "" then io.write("REJECT_SAMPLE " .. smp .. "\n") end
end
