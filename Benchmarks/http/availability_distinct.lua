-- wrk script: GET /api/availability of 7 days, every request from a different minute, so no two reads in flight
-- share a database statement (PostgresStore's reads of the same resource and minutes share one: README, PostgreSQL).
--
--   wrk -t2 -c64 -d10s -s availability_distinct.lua http://127.0.0.1:PORT -- THREADS
--
-- Request i of thread t asks from = BASE + ((i * THREADS + t) mod 1,380) minutes, to = from + 7 days, where BASE is
-- the whole minute 10 minutes after wrk started: up to 23 hours later, so the server needs a horizon of 8 days
-- (--days-ahead 8) for every answer to be a whole week. With THREADS dividing 1,380, each thread asks only the
-- minutes of its own remainder, and one thread asks a minute again only after 1,380 / THREADS more requests (690
-- with 2 threads): a read still in flight by then would be the only one to share. No response() hook: wrk would
-- hand each 171 KB answer to Lua (BENCHMARKS.md, session 32); wrk counts the answers of 400 or more itself.
local next_id = 0
-- Computed in the main Lua state and handed to every thread as the global `base` (each thread's own run of this
-- chunk computes one too, unused): threads that computed their own could straddle a minute and walk the same minutes
-- in step.
local first_minute = (math.floor(os.time() / 60) + 10) * 60

function setup(thread)
    thread:set("id", next_id)
    thread:set("base", first_minute)
    next_id = next_id + 1
end

function init(args)
    thread_count = tonumber(args[1])
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
