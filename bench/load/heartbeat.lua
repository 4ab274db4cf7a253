-- wrk: POST /v1/playback/sessions/{id}/heartbeat over prepared live sessions.
-- Input file: one "token session_id" per line.
local lines = {}
local idx = 0
local seq = 0

function init(args)
    for line in io.lines(args[1]) do
        local token, sid = line:match("^(%S+) (%S+)$")
        if token then
            lines[#lines + 1] = {
                path = "/v1/playback/sessions/" .. sid .. "/heartbeat",
                headers = {
                    ["Authorization"] = "Bearer " .. token,
                    ["Content-Type"] = "application/json",
                },
            }
        end
    end
    idx = math.random(#lines)
end

function request()
    idx = idx % #lines + 1
    seq = seq + 1
    local l = lines[idx]
    return wrk.format("POST", l.path, l.headers,
        '{"position_sec":' .. (seq % 7000) .. '.5,"state":"playing","seq":' .. seq .. '}')
end
