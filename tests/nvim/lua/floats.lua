-- :UsageToday, :UsageModels and :UsageProjects show the server's numbers as tables in a float
-- closed with q; a date range goes to the server as a filter; a bad one gives its message.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

u.setup({ cmd = t.server_cmd })
t.wait("the server to be ready", function()
  return u.statusline() ~= ""
end)
t.out.models = t.float_of("UsageModels")
t.out.projects = t.float_of("UsageProjects")
t.out.today = t.float_of("UsageToday")
t.out.yesterday = t.float_of("UsageModels " .. os.getenv("YESTERDAY"))

-- a project name with a right-to-left override and a zero-width space is shown as plain text
local recorded
u.record({ model = "gpt-4.1-mini", inputTokens = 1, outputTokens = 1, costUsd = 0, project = "evil\226\128\174gnp.exe\226\128\139" },
  function(result)
    recorded = result
  end)
t.wait("the record", function()
  return recorded ~= nil
end)
t.out.hostile_record = recorded
t.out.hostile_projects = t.float_of("UsageProjects")

vim.cmd("UsageModels 21/11/2026")
t.wait("the error message", function()
  return #t.messages > 0
end)
t.out.floats_after_error = #t.floats()
t.done()
