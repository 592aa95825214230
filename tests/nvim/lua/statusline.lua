-- The statusline: right credits for the seeded data, instant, as a plain 'statusline'
-- expression and a lualine-style component, and current after another process records.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

t.out.before_setup = u.statusline()
u.setup({ cmd = t.server_cmd })
t.wait("the first status", function()
  return u.statusline() ~= ""
end)
t.out.first = u.statusline()
t.out.status = u.status()

vim.o.statusline = "%{v:lua.require'usage_ls'.statusline()}"
t.out.expr = t.eval_statusline(vim.o.statusline)
t.out.component = u.statusline({}, true) -- lualine calls components with arguments

local start = vim.loop.hrtime()
for _ = 1, 10000 do
  u.statusline()
end
t.out.ms_per_10000 = (vim.loop.hrtime() - start) / 1e6

local changed = 0
vim.api.nvim_create_autocmd("User", {
  pattern = "UsageLsChanged",
  callback = function()
    changed = changed + 1
  end,
})
-- another process (the CLI) records usage into the same data dir
t.run({ os.getenv("USAGE_LS_SERVER"), "record", "--model", "gpt-4.1-mini", "--input", "500", "--output", "20",
  "--cost", "0.05", "--project", "api" })
t.wait("the statusline to change after another process recorded", function()
  return u.statusline() ~= t.out.first
end)
t.out.after = u.statusline()
t.wait("User UsageLsChanged after the change", function()
  return changed > 0
end, 2000)
t.out.expr_after = t.eval_statusline(vim.o.statusline)
t.done()
