-- wrk script for `cargo bench -p zhiban-api --bench load`: POST /v1/qa cycling through the
-- questions in the file named by ZHIBAN_QA_QUESTIONS (one JSON string a line).
local questions = {}
local f = io.open(os.getenv("ZHIBAN_QA_QUESTIONS"), "r")
for line in f:lines() do questions[#questions + 1] = line end
f:close()
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #questions + 1
  return wrk.format(nil, nil, nil, '{"question": ' .. questions[i] .. ', "as_of": "2026-11-01"}')
end
local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non_200 %d\n", summary.errors.status))
end
