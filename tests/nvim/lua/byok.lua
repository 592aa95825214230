-- billing = "byok": the statusline counts today's dollars on the user's own keys, and follows
-- changes (the pushed status counts credits, so the plugin asks for the BYOK one).
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

u.setup({ cmd = t.server_cmd, billing = "byok" })
u.setup({ cmd = t.server_cmd, billing = "byok" }) -- again: same server, no second client
t.wait("the BYOK status", function()
  return u.statusline() ~= ""
end)
t.out.first = u.statusline()
t.run({ os.getenv("USAGE_LS_SERVER"), "record", "--model", "gemini-2.5-pro", "--input", "10", "--output", "1",
  "--cost", "0.25", "--billing", "byok" })
t.wait("the BYOK status to change", function()
  return u.statusline() ~= t.out.first
end)
t.out.after = u.statusline()
t.out.children = #vim.api.nvim_get_proc_children(vim.fn.getpid())
t.done()
