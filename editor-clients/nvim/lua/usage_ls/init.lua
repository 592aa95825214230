--- usage_ls: the Neovim client of the usage-ls language server (see :help usage_ls).
---
--- One server per Neovim, started by setup() and attached to every file buffer. The server
--- does all the counting; the plugin forwards. This file is its public face: setup() and the
--- functions users and plugin/usage_ls.lua call, each handed to the module that does the work:
---   config.lua      the options of setup()
---   client.lua      the server command and the LSP client: start, attach, requests, pushes
---   statusline.lua  the cached status string behind statusline() and status()
---   record.lua      record(), for AI plugins
---   ui.lua          the floats of :UsageToday, :UsageModels, :UsageProjects, :UsageInfo
---   dashboard.lua   :UsageDashboard
---   health.lua      :checkhealth usage_ls (and the report :UsageInfo shows)
---   highlight.lua   the UsageLs* highlight groups
---   format.lua      numbers and tables as text
---   message.lua     vim.notify() with the plugin's prefix, and the last error
local client = require("usage_ls.client")
local config = require("usage_ls.config")
local highlight = require("usage_ls.highlight")
local message = require("usage_ls.message")
local statusline = require("usage_ls.statusline")

local M = {}

--- The options in effect (the defaults until setup() is called).
M.config = config.values

--- Applies `opts` (:help usage_ls.setup()), starts the server and attaches it to file buffers.
--- A bad option is reported and its default used; an unknown one is reported and ignored.
function M.setup(opts)
  local problems
  M.config, problems = config.apply(opts)
  for _, problem in ipairs(problems) do
    message.notify(problem, vim.log.levels.WARN)
  end
  highlight.define()
  local group = vim.api.nvim_create_augroup("usage_ls", { clear = true })
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = group,
    callback = client.quitting, -- Neovim stops the server as it quits: not a crash
  })
  vim.api.nvim_create_autocmd("ColorScheme", {
    group = group,
    callback = highlight.define, -- a colorscheme's `:hi clear` drops groups the user had set
  })
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile", "BufEnter" }, {
    group = group,
    callback = function(args)
      client.attach(args.buf)
    end,
  })
  if not client.start() then
    return
  end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      client.attach(bufnr)
    end
  end
end

-- the client
M.server_cmd = client.server_cmd
M.cli = client.cli
M.server_found = client.server_found
M.request = client.request
M.start = client.start
M.attach = client.attach
M.stop = client.stop

-- the statusline
M.statusline = statusline.statusline
M.status = statusline.status
M.statusline_hl = statusline.statusline_hl
M.highlight = statusline.highlight

-- the rest is loaded when first used
local function lazy(module, fn)
  return function(...)
    return require(module)[fn](...)
  end
end

M.record = lazy("usage_ls.record", "record") -- :help usage_ls.record()

M.open_float = lazy("usage_ls.ui", "open_float")
M.show_models = lazy("usage_ls.ui", "show_models")
M.show_projects = lazy("usage_ls.ui", "show_projects")
M.show_today = lazy("usage_ls.ui", "show_today")
M.show_info = lazy("usage_ls.ui", "show_info")
M.dashboard = lazy("usage_ls.dashboard", "open")
M.info = lazy("usage_ls.health", "report")

return M
