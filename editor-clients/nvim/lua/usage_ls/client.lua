--- The LSP client: the server command, starting the one usage-ls client of this Neovim and
--- attaching it to file buffers, requests (queued until the server has initialized), the
--- server's `usage/didChange` pushes, and restarts after a crash (at most three).
--- Works on 0.7 through 0.11: features are checked, not version numbers.
local config = require("usage_ls.config")
local message = require("usage_ls.message")
local statusline = require("usage_ls.statusline")

local M = {}

local NAME = "usage_ls"
local ERROR, WARN = vim.log.levels.ERROR, vim.log.levels.WARN

local state = {
  client_id = nil, -- set from start until the server exits
  client = nil, -- the client, once initialized (0.7 cannot look it up from inside on_init)
  ready = false, -- the server answered `initialize`
  waiting = {}, -- functions to run once it has
  exits = 0, -- unexpected server exits; after 3 we stop restarting it
  stopping = false, -- we (or Neovim quitting) stop the server: its exit is no crash
}

-- the server command ---------------------------------------------------------------------

function M.server_cmd()
  return config.values.cmd or vim.deepcopy(config.DEFAULT_CMD)
end

--- The CLI for `args`: the server command up to its `serve`, with the data dir if one is set.
function M.cli(args)
  local out = {}
  for _, part in ipairs(M.server_cmd()) do
    if part == "serve" then
      break
    end
    out[#out + 1] = part
  end
  if config.values.data_dir then
    vim.list_extend(out, { "--data-dir", config.values.data_dir })
  end
  return vim.list_extend(out, args)
end

function M.server_found()
  return vim.fn.executable(M.server_cmd()[1]) == 1
end

function M.missing_message()
  return string.format(
    "the server %q was not found (not on PATH). Install usage-ls (e.g. `pipx install usage-ls`)"
      .. " or give its path: require('usage_ls').setup({ cmd = { '/path/to/usage-ls', 'serve' } })",
    M.server_cmd()[1]
  )
end

-- the client -----------------------------------------------------------------------------

--- Calls a client method. 0.11 clients are objects whose class has the method (client:request());
--- before, `client.request` is a closure that takes no self (0.10's class names it `_request`).
local function call(client, method, ...)
  local class = getmetatable(client)
  if type(class) == "table" and type(rawget(class, method)) == "function" then
    return class[method](client, ...)
  end
  return client[method](...)
end

--- The running client, or nil.
function M.get()
  local client = state.client or (state.client_id and vim.lsp.get_client_by_id(state.client_id))
  if client and not call(client, "is_stopped") then
    return client
  end
  return nil
end

--- Whether the server has answered `initialize`.
function M.is_ready()
  return state.ready
end

local function when_ready(fn)
  local client = state.ready and M.get()
  if client then
    fn(client)
  elseif M.start() then
    table.insert(state.waiting, fn) -- run by on_init
  elseif state.exits >= 3 then
    message.notify("the server exited 3 times; it is not restarted until you restart Neovim. See :UsageInfo and :LspLog",
      ERROR, true)
  end
end

--- An asynchronous request; `cb(result, err)` runs on the main loop.
function M.request(method, params, cb)
  if not M.server_found() then
    message.notify(M.missing_message(), ERROR, true)
    return
  end
  when_ready(function(client)
    call(client, "request", method, params or vim.empty_dict(), function(err, result)
      vim.schedule(function()
        cb(result, err)
      end)
    end)
  end)
end

local function refresh_status()
  M.request("usage/statusBar", { billing = config.values.billing }, function(result, err)
    if err then
      message.notify("usage/statusBar failed: " .. tostring(err.message or err), WARN, true)
    else
      statusline.set(result)
    end
  end)
end

local handlers = {
  ["usage/didChange"] = function(_, result)
    if config.values.billing == "auto" and type(result) == "table" then
      statusline.set(result.statusBar) -- the pushed status bar is the server's "auto" one
    else
      refresh_status()
    end
  end,
  ["window/showMessage"] = function(err, result, ctx, conf)
    if type(result) == "table" and result.type and result.type <= 2 then -- Error, Warning
      message.set_last_error(tostring(result.message))
    end
    return vim.lsp.handlers["window/showMessage"](err, result, ctx, conf)
  end,
}

local function client_config()
  local project = config.values.project
  return {
    name = NAME,
    cmd = M.server_cmd(),
    root_dir = vim.fn.getcwd(),
    init_options = {
      dataDir = config.values.data_dir,
      project = type(project) == "string" and project or nil,
      user = config.values.user,
    },
    handlers = handlers,
    on_init = function(client) -- 0.7 registers the client only after this returns
      state.client, state.ready = client, true
      local waiting = state.waiting
      state.waiting = {}
      for _, fn in ipairs(waiting) do
        fn(client)
      end
      if config.values.billing ~= "auto" then
        refresh_status()
      end
    end,
    on_exit = function(code, signal)
      state.client_id, state.client, state.ready = nil, nil, false
      if state.stopping then
        state.stopping = false
      elseif code ~= 0 or signal ~= 0 then
        state.exits = state.exits + 1
        message.notify(string.format("the server exited (code %s, signal %s); see :UsageInfo and :LspLog", code,
          signal), ERROR)
      end
      statusline.clear()
    end,
  }
end

--- Starts the server once per Neovim; returns the client id, or nil when it cannot run.
function M.start()
  if state.client_id then -- running, or still starting
    return state.client_id
  end
  if not M.server_found() then
    message.notify(M.missing_message(), ERROR, true)
    return nil
  end
  if state.exits >= 3 then
    return nil
  end
  state.ready = false
  local conf = client_config()
  if vim.lsp.config then -- 0.11+: start without a buffer; start_client() is deprecated there
    state.client_id = vim.lsp.start(conf, {
      attach = false,
      reuse_client = function(client)
        return client.name == NAME
      end,
    })
  else -- 0.7-0.10
    state.client_id = vim.lsp.start_client(conf)
  end
  return state.client_id
end

--- Attaches the server to a file buffer (one client for all buffers, tabs and windows).
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return
  end
  local id = M.start()
  if not id then
    return
  end
  vim.lsp.buf_attach_client(bufnr, id)
  -- 0.10+ maps K to hover itself; before, K runs 'keywordprg' unless someone maps it
  local key = config.values.hover_key
  if key and vim.fn.maparg(key, "n") == "" then
    vim.api.nvim_buf_call(bufnr, function()
      vim.keymap.set("n", key, vim.lsp.buf.hover, { buffer = bufnr, desc = "LSP hover (usage-ls)" })
    end)
  end
end

function M.stop()
  local client = M.get()
  if client then
    state.stopping = true
    call(client, "stop")
  end
end

--- Neovim is quitting and stops the server itself: its exit is no crash.
function M.quitting()
  state.stopping = true
end

return M
