-- wrk script: GET /api/availability for a fixed window; done() counts answers other than 200.
--
--   wrk -t2 -c64 -d10s -s availability.lua http://127.0.0.1:PORT -- "from=...&to=..."
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    path = "/api/availability?" .. args[1]
    non200 = 0
    bytes = 0
end

function request()
    return wrk.format("GET", path)
end

function response(status, headers, body)
    if status ~= 200 then non200 = non200 + 1 end
    bytes = #body
end

function done(summary, latency, requests)
    local bad, size = 0, 0
    for _, thread in ipairs(threads) do
        bad = bad + thread:get("non200")
        size = thread:get("bytes")
    end
    io.write(string.format("availability: non200=%d body_bytes=%d\n", bad, size))
end
