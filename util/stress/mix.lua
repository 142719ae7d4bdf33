-- wrk script of make stress (util/stress.sh): one mix of requests, rotated
-- request by request on each connection's thread, and an exact count of
-- the answers by status.
--
--   wrk ... -s util/stress/mix.lua <url> -- <mix> [<cid> <signature>]...
--
-- <mix>: negotiate | trigger | output | all (the three together), and
-- all-close: the three, each request with "Connection: close"; the
-- trigger's calls use the connection ids given, each with its signature
-- (sha256=<hex HMAC-SHA256 of the id with the AccessKey>, util/stress.sh
-- signs them with openssl).
--
-- done() prints one line that util/stress.sh reads:
--   STRESS requests=N duration_us=N responses=N non2xx=N connect=N read=N
--          write=N timeout=N statuses=<status>:<count>,...
-- responses and non2xx are counted by response() (every status outside
-- 200-299 is non-2xx; wrk's own "Non-2xx or 3xx" counts only >= 400).

local function unhex(s)
    return (s:gsub("%x%x", function(c) return string.char(tonumber(c, 16)) end))
end

-- the MessagePack invocation of t/003-trigger.t (TEST 21):
-- [1, {}, "0", "broadcast", ["hello"], []]
local MP_INVOCATION = unhex("960180a130a962726f61646361737491a568656c6c6f90")
local JSON_INVOCATION =
    '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}'
local BROADCAST = '{"target":"t","arguments":[1]}'
local ADD_AND_SEND = '[{"action":"add","groupName":"g","connectionId":"c"},'
    .. '{"target":"t","groupName":"g","arguments":[1]}]'

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
    table.insert(threads, thread)
end

local reqs = {}
local n = 0
responses = 0
non2xx = 0
statuses = {}

local function upstream(cid, sig, category, event, ctype, body)
    return wrk.format("POST", "/upstream", {
        ["Content-Type"] = ctype,
        ["X-ASRS-Hub"] = "chat",
        ["X-ASRS-Category"] = category,
        ["X-ASRS-Event"] = event,
        ["X-ASRS-Connection-Id"] = cid,
        ["X-ASRS-Signature"] = sig,
        ["X-ASRS-User-Id"] = "alice",
    }, body)
end

function init(args)
    local mix = args[1] or "all"
    if mix == "all-close" then
        mix = "all"
        local format = wrk.format
        wrk.format = function(method, path, headers, body)
            headers = headers or {}
            headers["Connection"] = "close"
            return format(method, path, headers, body)
        end
    end
    local signed = {}
    for i = 2, #args - 1, 2 do
        table.insert(signed, { args[i], args[i + 1] })
    end
    if (mix == "trigger" or mix == "all") and #signed == 0 then
        error("mix.lua: the trigger mix needs <cid> <signature> pairs")
    end
    if mix == "negotiate" or mix == "all" then
        -- a few users: tokens minted for different ids
        for u = 1, 4 do
            table.insert(reqs, wrk.format("GET", "/negotiate?user=user" .. u))
        end
    end
    if mix == "trigger" or mix == "all" then
        for _, s in ipairs(signed) do
            table.insert(reqs, upstream(s[1], s[2], "connections", "connected",
                "application/json", '{"type":10}'))
            table.insert(reqs, upstream(s[1], s[2], "messages", "broadcast",
                "application/json", JSON_INVOCATION))
            table.insert(reqs, upstream(s[1], s[2], "messages", "broadcast",
                "application/x-msgpack", MP_INVOCATION))
        end
    end
    if mix == "output" or mix == "all" then
        local h = { ["Content-Type"] = "application/json" }
        table.insert(reqs, wrk.format("POST", "/out", h, BROADCAST))
        table.insert(reqs, wrk.format("POST", "/out", h, ADD_AND_SEND))
    end
    if #reqs == 0 then
        error("mix.lua: unknown mix " .. mix)
    end
    -- threads start at different places in the rotation
    n = wrk.thread:get("id") or 0
end

function request()
    n = n + 1
    return reqs[n % #reqs + 1]
end

function response(status, headers, body)
    responses = responses + 1
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
        statuses[status] = (statuses[status] or 0) + 1
    end
end

function done(summary, latency, requests)
    local total, bad, by = 0, 0, {}
    for _, t in ipairs(threads) do
        total = total + t:get("responses")
        bad = bad + t:get("non2xx")
        local s = t:get("statuses")
        for k, v in pairs(s) do
            by[k] = (by[k] or 0) + v
        end
    end
    local list = {}
    for k, v in pairs(by) do
        table.insert(list, k .. ":" .. v)
    end
    local e = summary.errors
    io.write(string.format(
        "STRESS requests=%d duration_us=%d responses=%d non2xx=%d connect=%d"
        .. " read=%d write=%d timeout=%d statuses=%s\n",
        summary.requests, summary.duration, total, bad, e.connect, e.read,
        e.write, e.timeout, #list > 0 and table.concat(list, ",") or "-"))
end
