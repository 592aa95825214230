-- Quitting Neovim while the server is still starting stops it (SIGTERM): that is no crash,
-- so nothing is shown.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
require("usage_ls").setup({ cmd = t.server_cmd })
vim.cmd("edit " .. vim.fn.getcwd() .. "/a.md")
t.done()
