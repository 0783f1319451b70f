-- wrk script: GET /api/availability of 7 days, every request from a different minute, so no two reads in flight
-- share a database statement (PostgresStore's reads of the same resource and minutes share one: README, PostgreSQL).
--
--   wrk -t2 -c64 -d10s -s availability_distinct.lua http://127.0.0.1:PORT -- THREADS
--
-- Request i of thread t asks from = now + 10 minutes + ((i * THREADS + t) mod 1,380) minutes, to = from + 7 days:
-- up to 23 hours later, so the server needs a horizon of 8 days (--days-ahead 8) for every answer to be a whole
-- week. No response() hook: wrk would hand each 170 KB answer to Lua (BENCHMARKS.md, session 32); wrk counts the
-- answers of 400 or more itself.
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
end

function init(args)
    thread_count = tonumber(args[1])
    -- Whole minutes, so each request's window starts and ends on its own minute.
    base = (math.floor(os.time() / 60) + 10) * 60
    sent = 0
end

local function iso(seconds)
    return os.date("!%Y-%m-%dT%H:%M:%S.000Z", seconds)
end

function request()
    local from = base + ((sent * thread_count + id) % 1380) * 60
    sent = sent + 1
    return wrk.format("GET", "/api/availability?resource=default&from=" .. iso(from) .. "&to=" .. iso(from + 7 * 86400))
end
