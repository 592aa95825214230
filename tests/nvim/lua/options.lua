-- setup() with bad or unknown options: one warning each, naming the option (and for a bad
-- value what was expected); the plugin then works with the defaults and the good options.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

local dir = vim.fn.getcwd()
vim.fn.writefile({ "Reviews run on claude-sonnet-4-5." }, dir .. "/NOTES.md")
vim.cmd("edit " .. dir .. "/NOTES.md")

local opts = assert(loadstring("return " .. os.getenv("OPTIONS")))() -- a Lua table, as a user writes it
opts.cmd = t.server_cmd
local ok, err = pcall(u.setup, opts)
t.out.setup_ok, t.out.setup_err = ok, err and tostring(err) or vim.NIL
t.wait("the status", function()
  return u.statusline() ~= ""
end)
t.out.statusline = u.statusline()
t.out.billing = u.config.billing
t.out.hover_key = u.config.hover_key

-- K (the default hover_key, or Neovim's own on 0.10+) shows the server's hover
vim.api.nvim_win_set_cursor(0, { 1, 17 })
vim.api.nvim_feedkeys("K", "x", false)
t.wait("the hover float", function()
  return #t.floats() > 0
end)
t.out.hover = t.float_lines()
t.out.errmsg = vim.v.errmsg
vim.wait(200) -- messages are scheduled
t.done()
