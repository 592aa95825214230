-- Hover on a model name shows its counts (through the server), in buffers of any tab,
-- all served by one client.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

local function clients(buf)
  local list = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = buf }) or vim.lsp.buf_get_clients(buf)
  local ids = {}
  for _, c in pairs(list) do
    table.insert(ids, c.id)
  end
  return ids
end

local dir = vim.fn.getcwd()
vim.fn.writefile({ "# Notes", "We switched to claude-sonnet-4-5 for reviews." }, dir .. "/NOTES.md")
vim.fn.writefile({ "gpt-4.1-mini is cheap" }, dir .. "/other.txt")
vim.cmd("edit " .. dir .. "/NOTES.md")
u.setup({ cmd = t.server_cmd })
local buf = vim.api.nvim_get_current_buf()
t.wait("the server to be ready", function()
  return u.statusline() ~= "" and #clients(buf) == 1
end)

-- the raw answer
local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 1, character = 20 } }
local answers = vim.lsp.buf_request_sync(buf, "textDocument/hover", params, 5000)
for _, answer in pairs(answers or {}) do
  t.out.markdown = answer.result and answer.result.contents.value
end

-- what K shows (Neovim maps it on 0.10+, the plugin before)
vim.api.nvim_win_set_cursor(0, { 2, 20 })
vim.api.nvim_feedkeys("K", "x", false)
t.wait("the hover float", function()
  return #t.floats() > 0
end)
t.out.float = t.float_lines()

-- a word that is not a model: no hover
params.position = { line = 0, character = 3 }
answers = vim.lsp.buf_request_sync(buf, "textDocument/hover", params, 5000)
for _, answer in pairs(answers or {}) do
  t.out.not_a_model = answer.result or vim.NIL
end

-- another buffer in another tab: the same client
vim.cmd("tabnew " .. dir .. "/other.txt")
local other = vim.api.nvim_get_current_buf()
t.wait("the client in the second tab", function()
  return #clients(other) == 1
end)
t.out.first_clients = clients(buf)
t.out.other_clients = clients(other)
local all = vim.lsp.get_clients and vim.lsp.get_clients({ name = "usage_ls" }) or vim.lsp.get_active_clients()
t.out.usage_clients = #all
t.out.servers = #vim.api.nvim_get_proc_children(vim.fn.getpid())
t.done()
