--- The options of setup(): their defaults, and the current values (`values`).
local M = {}

M.defaults = {
  cmd = nil, -- default: { "usage-ls", "serve", "--stdio" }, found on PATH
  data_dir = nil, -- default: the server's ($USAGE_LS_DATA_DIR or the platform's data dir)
  project = nil, -- string, or function() -> string; default: the current directory's name
  user = nil, -- default: the server's (`user` in config.toml, else the login name)
  billing = "premium", -- what the statusline counts: "premium" credits or "byok" dollars
  dashboard_args = {}, -- extra arguments for `usage-ls dashboard` (e.g. { "--port", "8765" })
  hover_key = "K", -- mapped to vim.lsp.buf.hover() where nothing maps it yet; false: leave keys alone
}

--- The options in effect: the defaults until setup() is called.
M.values = vim.deepcopy(M.defaults)

--- Makes `opts` (from setup()) the options in effect; returns them.
function M.apply(opts)
  local values = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if opts and opts.cmd then
    values.cmd = opts.cmd -- a list: replace, never merge by index
  end
  M.values = values
  return values
end

return M
