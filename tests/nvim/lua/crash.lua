-- A server that dies says so once; the next file opened starts a new one; quitting Neovim
-- (which stops the server) says nothing.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

u.setup({ cmd = t.server_cmd })
vim.cmd("edit " .. vim.fn.getcwd() .. "/a.md")
t.wait("the server to be ready", function()
  return u.statusline() ~= ""
end)
local children = vim.api.nvim_get_proc_children(vim.fn.getpid())
assert(#children == 1, "expected one child process (the server), got " .. #children)
vim.loop.kill(children[1], 9)
t.wait("the crash to be noticed", function()
  return u.statusline() == "" and #t.messages > 0
end)
t.out.after_crash = u.statusline()
vim.cmd("edit " .. vim.fn.getcwd() .. "/b.md")
t.wait("a new server", function()
  return u.statusline() ~= ""
end)
t.out.restarted = u.statusline()
t.done()
