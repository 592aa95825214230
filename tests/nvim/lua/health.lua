-- :checkhealth usage_ls (where Neovim has vim.health) and :UsageInfo report the server,
-- its version, the data dir and the last error.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

u.setup({ cmd = t.server_cmd })
t.wait("the server to be ready", function()
  return u.statusline() ~= ""
end)
t.out.has_vim_health = vim.health ~= nil and vim.health.start ~= nil
if t.out.has_vim_health then
  vim.cmd("checkhealth usage_ls")
  t.out.checkhealth = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd("bwipeout!")
end
t.out.info = t.float_of("UsageInfo")
t.done()
