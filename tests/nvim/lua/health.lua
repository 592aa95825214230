-- :checkhealth usage_ls (vim.health on 0.9+, the older `health` module on 0.7) and :UsageInfo
-- report the server, its version, the data dir and the last error.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

u.setup({ cmd = t.server_cmd })
t.wait("the server to be ready", function()
  return u.statusline() ~= ""
end)
vim.cmd("checkhealth usage_ls")
t.out.checkhealth = vim.api.nvim_buf_get_lines(0, 0, -1, false)
vim.cmd("bwipeout!")
t.out.info = t.float_of("UsageInfo")

-- :help works: the tags build without errors (in a copy, so the plugin folder stays clean)
local docs = vim.fn.tempname() .. "/doc"
vim.fn.mkdir(docs, "p")
vim.fn.writefile(vim.fn.readfile(os.getenv("USAGE_LS_PLUGIN") .. "/doc/usage_ls.txt"), docs .. "/usage_ls.txt")
vim.cmd("helptags " .. docs)
vim.opt.runtimepath:prepend(vim.fn.fnamemodify(docs, ":h"))
t.out.help = {}
for _, tag in ipairs({ "usage_ls", "usage_ls.record()", ":UsageModels", "usage_ls-statusline", "usage_ls-highlights" }) do
  vim.cmd("help " .. tag)
  table.insert(t.out.help, vim.fn.expand("%:t") .. " " .. vim.fn.getline("."))
end
t.done()
