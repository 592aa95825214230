-- A new user: no config, a fresh data directory, Claude Code and Codex logs in the home. The
-- server the plugin starts finds both, imports their history with progress ($/progress), and
-- counts a line Claude Code appends afterwards.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

local progress = {}
local builtin = vim.lsp.handlers["$/progress"]
vim.lsp.handlers["$/progress"] = function(err, result, ctx, config)
  if result and result.value then
    table.insert(progress, result.value)
  end
  if builtin then
    return builtin(err, result, ctx, config)
  end
end

u.setup({ cmd = t.server_cmd })
t.wait("the first status", function()
  return u.statusline() ~= ""
end)
t.wait("the end of the import's progress", function()
  for _, v in ipairs(progress) do
    if v.kind == "end" then
      return true
    end
  end
  return false
end, 40000)
t.out.progress = progress
vim.wait(300) -- the push after the import
t.out.before = u.statusline()
t.out.before_tooltip = u.status().tooltip

-- Claude Code answers once more
local f = assert(io.open(os.getenv("APPEND_TO"), "ab"))
f:write(os.getenv("APPEND_LINE"))
f:close()
t.wait("the status to count the appended line", function()
  return u.status().tooltip:find("1 message") ~= nil
end, 15000)
t.out.after = u.statusline()
t.out.tooltip = u.status().tooltip
t.done()
