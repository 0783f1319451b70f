-- wrk script: POST /api/appointments, every request a distinct slot, and every answer must be 201.
--
--   wrk -t2 -c64 -d10s -s book.lua http://127.0.0.1:PORT -- FIRST_EPOCH_SECONDS SLOT_SECONDS PER_THREAD THREADS [EMAIL]
--
-- Request i of thread t books slot FIRST + (i * THREADS + t) * SLOT_SECONDS, so the threads fill one run of
-- slots together; a thread stops after PER_THREAD answers. done() prints one line:
-- "book: answers=N non201=M sent_max=S first_non201=STATUS BODY", where S * THREADS slots were handed out.
local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    first = tonumber(args[1])
    step = tonumber(args[2])
    limit = tonumber(args[3])
    thread_count = tonumber(args[4])
    -- JSON-escaped once: a quote or backslash in the address would otherwise end the string.
    email = string.gsub(args[5] or "bench@example.com", '[\\"]', '\\%0')
    sent = 0
    answers = 0
    non201 = 0
    first_non201 = ""
end

local function iso(seconds)
    return os.date("!%Y-%m-%dT%H:%M:%S.000Z", seconds)
end

function request()
    local start = first + (sent * thread_count + id) * step
    sent = sent + 1
    local body = '{"slotStart":"' .. iso(start) .. '","slotEnd":"' .. iso(start + step)
        .. '","name":"Bench Mark","email":"' .. email .. '"}'
    return wrk.format("POST", "/api/appointments", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
    answers = answers + 1
    if status ~= 201 then
        non201 = non201 + 1
        if first_non201 == "" then first_non201 = status .. " " .. string.sub(body or "", 1, 200) end
    end
    if answers >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
    local total, bad, most, example = 0, 0, 0, ""
    for _, thread in ipairs(threads) do
        total = total + thread:get("answers")
        bad = bad + thread:get("non201")
        most = math.max(most, thread:get("sent"))
        if example == "" then example = thread:get("first_non201") end
    end
    io.write(string.format("book: answers=%d non201=%d sent_max=%d first_non201=%s\n", total, bad, most, example))
end
