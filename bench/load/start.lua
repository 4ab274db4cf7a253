-- wrk: POST /v1/playback/sessions, rotating over the prepared accounts.
-- Each account plays on its own fixed device, so every start replaces that device's previous
-- lease (api.md §6) and the stream limit is never the bottleneck: this measures the warm path.
-- Input file (wrk ... -- <file>): one "token content_id device_id" per line.
local lines = {}
local idx = 0

function init(args)
    for line in io.lines(args[1]) do
        local token, content, device = line:match("^(%S+) (%S+) (%S+)$")
        if token then
            lines[#lines + 1] = {
                headers = {
                    ["Authorization"] = "Bearer " .. token,
                    ["Content-Type"] = "application/json",
                },
                body = '{"content_id":"' .. content .. '","device":{"id":"' .. device ..
                    '","type":"web","name":"bench"},"capabilities":{"protocols":["dash","hls"],' ..
                    '"drm":["widevine"],"video_codecs":["avc","hevc"],"max_height":1080}}',
            }
        end
    end
    idx = math.random(#lines)
end

function request()
    idx = idx % #lines + 1
    local l = lines[idx]
    return wrk.format("POST", "/v1/playback/sessions", l.headers, l.body)
end
