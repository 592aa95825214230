-- record() stores what an AI plugin reports, filling project and user; the server then
-- reports it (statusline, usage/projects). Works before the server is ready (queued).
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

u.setup({ cmd = t.server_cmd })
local single
u.record({ model = "gpt-4.1-mini", inputTokens = 400, outputTokens = 40, costUsd = 0.03, id = "req-1" }, function(r, e)
  single = { result = r, err = e }
end)
t.wait("the first record", function()
  return single ~= nil
end)
t.out.single = single

local batch
u.record({
  { model = "claude-sonnet-4-5", inputTokens = 10, outputTokens = 5, costUsd = 0.01, project = "explicit", user = "someone" },
  { model = "", inputTokens = 1, outputTokens = 1 },
  { model = "gpt-4.1-mini", inputTokens = 400, outputTokens = 40, costUsd = 0.03, id = "req-1" }, -- a retry
}, function(r)
  batch = r
end)
t.wait("the batch", function()
  return batch ~= nil
end)
t.out.batch = batch
t.wait("the statusline to count the new records", function()
  return u.statusline():find("^31%.0 cr") ~= nil
end)
t.out.statusline = u.statusline()

local projects
u.request("usage/projects", vim.empty_dict(), function(r)
  projects = r
end)
t.wait("usage/projects", function()
  return projects ~= nil
end)
t.out.projects = projects.projects
t.out.not_a_table = u.record("oops")
vim.wait(200) -- messages are scheduled
t.done()
