-- A user's init for the on-screen tests (real TUI in tmux): the plugin, a statusline with the
-- usage component, and nothing else.
vim.opt.runtimepath:prepend(os.getenv("USAGE_LS_PLUGIN"))
vim.cmd("runtime! plugin/usage_ls.lua")
vim.o.laststatus = 2
vim.o.statusline = " %f%=AI today: %{v:lua.require'usage_ls'.statusline()} "
require("usage_ls").setup({ cmd = { os.getenv("USAGE_LS_SERVER"), "serve", "--stdio" } })
