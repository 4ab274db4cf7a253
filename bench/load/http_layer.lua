-- wrk: a heartbeat-shaped request as nginx forwards it (its headers, a ~60-byte JSON body), for
-- the HTTP layer's load test (bench/load/http_layer.sh, docs/http_server.md "Figures").
local body = '{"position_sec":1234.5,"state":"playing","seq":1}'
local headers = {
    ["Host"] = "moneta_api",
    ["X-Request-Id"] = "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a",
    ["X-Request-Timeout-Ms"] = "1500",
    ["X-Forwarded-For"] = "203.0.113.7",
    ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ["Authorization"] = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "moneta-player/5.2.0",
}
local req = wrk.format("POST", "/v1/playback/sessions/ps_01HV3K8ZQ4W7/heartbeat", headers, body)
function request()
    return req
end
