-- A missing server gives one clear message: no error, no stack trace, an empty statusline.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

local cmd = os.getenv("MISSING_CMD")
local ok, err = pcall(u.setup, cmd and { cmd = { cmd, "serve" } } or {})
t.out.setup_ok, t.out.setup_err = ok, err and tostring(err) or vim.NIL
vim.fn.writefile({ "claude-sonnet-4-5" }, vim.fn.getcwd() .. "/a.md")
vim.cmd("edit " .. vim.fn.getcwd() .. "/a.md")
vim.cmd("tabnew " .. vim.fn.getcwd() .. "/b.md")
for _, command in ipairs({ "UsageModels", "UsageProjects", "UsageToday", "UsageDashboard" }) do
  local cmd_ok, cmd_err = pcall(vim.cmd, command)
  assert(cmd_ok, command .. " raised: " .. tostring(cmd_err))
end
t.out.record = u.record({ model = "gpt-4.1-mini", inputTokens = 1, outputTokens = 1 })
vim.wait(300) -- let scheduled messages arrive
t.out.statusline = u.statusline()
t.out.errmsg = vim.v.errmsg
t.out.info = u.info()
t.out.floats = #t.floats()
t.done()
