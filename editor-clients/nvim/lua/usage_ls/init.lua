--- usage_ls: the Neovim client of the usage-ls language server (see :help usage_ls).
---
--- One server per Neovim, started by setup() and attached to every file buffer. The server
--- does all the counting; this file forwards: the statusline returns a string cached from the
--- server's `usage/didChange` pushes (never a request), hover is Neovim's own LSP hover, and
--- the floats format the JSON of `usage/summary`, `usage/tokenSplit` and `usage/projects`.
--- Works on Neovim 0.7 through 0.11: features are checked, not version numbers.
local fmt = require("usage_ls.format")

local M = {}

local NAME = "usage_ls"

local defaults = {
  cmd = nil, -- default: { "usage-ls", "serve", "--stdio" }, found on PATH
  data_dir = nil, -- default: the server's ($USAGE_LS_DATA_DIR or the platform's data dir)
  project = nil, -- string, or function() -> string; default: the current directory's name
  user = nil, -- default: the server's (`user` in config.toml, else the login name)
  billing = "premium", -- what the statusline counts: "premium" credits or "byok" dollars
  dashboard_args = {}, -- extra arguments for `usage-ls dashboard` (e.g. { "--port", "8765" })
  hover_key = "K", -- mapped to vim.lsp.buf.hover() where nothing maps it yet; false: leave keys alone
}

M.config = vim.deepcopy(defaults)

local state = {
  client_id = nil, -- set from start until the server exits
  client = nil, -- the client, once initialized (0.7 cannot look it up from inside on_init)
  ready = false, -- the server answered `initialize`
  waiting = {}, -- functions to run once it has
  status = nil, -- the last usage/statusBar result {text, level, tooltip}
  last_error = nil,
  exits = 0, -- unexpected server exits; after 3 we stop restarting it
  told = {}, -- messages already shown once
  float_win = nil,
  dashboard = nil, -- {job, url}
}

-- messages -------------------------------------------------------------------------------

local function notify(msg, level, once)
  level = level or vim.log.levels.INFO
  if level >= vim.log.levels.WARN then
    state.last_error = msg
  end
  if once then
    if state.told[msg] then
      return
    end
    state.told[msg] = true
  end
  vim.schedule(function()
    vim.notify("usage-ls: " .. msg, level)
  end)
end

-- the server command ---------------------------------------------------------------------

function M.server_cmd()
  return M.config.cmd or { "usage-ls", "serve", "--stdio" }
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
  if M.config.data_dir then
    vim.list_extend(out, { "--data-dir", M.config.data_dir })
  end
  return vim.list_extend(out, args)
end

function M.server_found()
  return vim.fn.executable(M.server_cmd()[1]) == 1
end

local function missing_message()
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

local function get_client()
  local client = state.client or (state.client_id and vim.lsp.get_client_by_id(state.client_id))
  if client and not call(client, "is_stopped") then
    return client
  end
  return nil
end

local function set_status(status)
  if type(status) ~= "table" or type(status.text) ~= "string" then
    return
  end
  state.status = {
    text = fmt.plain(status.text),
    level = type(status.level) == "string" and status.level or "normal",
    tooltip = type(status.tooltip) == "string" and status.tooltip or "",
  }
  vim.schedule(function()
    vim.cmd("redrawstatus!")
    vim.api.nvim_exec_autocmds("User", { pattern = "UsageLsChanged", modeline = false })
  end)
end

local function when_ready(fn)
  local client = state.ready and get_client()
  if client then
    fn(client)
  elseif M.start() then
    table.insert(state.waiting, fn) -- run by on_init
  elseif state.exits >= 3 then
    notify("the server exited 3 times; it is not restarted until you restart Neovim. See :UsageInfo and :LspLog",
      vim.log.levels.ERROR, true)
  end
end

--- An asynchronous request; `cb(result, err)` runs on the main loop.
function M.request(method, params, cb)
  if not M.server_found() then
    notify(missing_message(), vim.log.levels.ERROR, true)
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
  M.request("usage/statusBar", { billing = M.config.billing }, function(result, err)
    if err then
      notify("usage/statusBar failed: " .. tostring(err.message or err), vim.log.levels.WARN, true)
    else
      set_status(result)
    end
  end)
end

local handlers = {
  ["usage/didChange"] = function(_, result)
    if M.config.billing == "premium" and type(result) == "table" then
      set_status(result.statusBar) -- the pushed status bar counts premium credits
    else
      refresh_status()
    end
  end,
  ["window/showMessage"] = function(err, result, ctx, config)
    if type(result) == "table" and result.type and result.type <= 2 then -- Error, Warning
      state.last_error = tostring(result.message)
    end
    return vim.lsp.handlers["window/showMessage"](err, result, ctx, config)
  end,
}

local function client_config()
  local project = M.config.project
  return {
    name = NAME,
    cmd = M.server_cmd(),
    root_dir = vim.fn.getcwd(),
    init_options = {
      dataDir = M.config.data_dir,
      project = type(project) == "string" and project or nil,
      user = M.config.user,
    },
    handlers = handlers,
    on_init = function(client) -- 0.7 registers the client only after this returns
      state.client, state.ready = client, true
      local waiting = state.waiting
      state.waiting = {}
      for _, fn in ipairs(waiting) do
        fn(client)
      end
      if M.config.billing ~= "premium" then
        refresh_status()
      end
    end,
    on_exit = function(code, signal)
      state.client_id, state.client, state.ready, state.status = nil, nil, false, nil
      if state.stopping then
        state.stopping = false
      elseif code ~= 0 or signal ~= 0 then
        state.exits = state.exits + 1
        notify(string.format("the server exited (code %s, signal %s); see :UsageInfo and :LspLog", code, signal),
          vim.log.levels.ERROR)
      end
      vim.schedule(function()
        vim.cmd("redrawstatus!")
      end)
    end,
  }
end

--- Starts the server once per Neovim; returns the client id, or nil when it cannot run.
function M.start()
  if state.client_id then -- running, or still starting
    return state.client_id
  end
  if not M.server_found() then
    notify(missing_message(), vim.log.levels.ERROR, true)
    return nil
  end
  if state.exits >= 3 then
    return nil
  end
  state.ready = false
  local config = client_config()
  if vim.lsp.config then -- 0.11+: start without a buffer; start_client() is deprecated there
    state.client_id = vim.lsp.start(config, {
      attach = false,
      reuse_client = function(client)
        return client.name == NAME
      end,
    })
  else -- 0.7-0.10
    state.client_id = vim.lsp.start_client(config)
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
  local key = M.config.hover_key
  if key and vim.fn.maparg(key, "n") == "" then
    vim.api.nvim_buf_call(bufnr, function()
      vim.keymap.set("n", key, vim.lsp.buf.hover, { buffer = bufnr, desc = "LSP hover (usage-ls)" })
    end)
  end
end

function M.stop()
  local client = get_client()
  if client then
    state.stopping = true
    call(client, "stop")
  end
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  if opts and opts.cmd then
    M.config.cmd = opts.cmd -- a list: replace, never merge by index
  end
  local group = vim.api.nvim_create_augroup("usage_ls", { clear = true })
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = group,
    callback = function()
      state.stopping = true -- Neovim stops the server as it quits: not a crash
    end,
  })
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile", "BufEnter" }, {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  if not M.start() then
    return
  end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
end

-- statusline -----------------------------------------------------------------------------

--- Today's status text, e.g. "12.4 cr ▁▂▃▅▇". Never blocks: returns what the server last pushed
--- ("" before the first push). Arguments are ignored, so lualine can call it as a component.
function M.statusline()
  return state.status and state.status.text or ""
end

--- The last status: {text, level = "normal"|"warning"|"error", tooltip = Markdown}.
function M.status()
  return vim.deepcopy(state.status or { text = "", level = "normal", tooltip = "" })
end

-- record ---------------------------------------------------------------------------------

local function default_project()
  local project = M.config.project
  if type(project) == "function" then
    local ok, value = pcall(project)
    if ok and type(value) == "string" and value ~= "" then
      return value
    end
  elseif type(project) == "string" then
    return project
  end
  return vim.fn.fnamemodify(vim.fn.getcwd(), ":t")
end

--- Reports AI usage: one record or a list of them (see :help usage_ls-record). `project` and
--- `user` are filled in when missing. `callback(result, err)` is optional.
function M.record(records, callback)
  if type(records) ~= "table" then
    notify("record() expects a record or a list of records, got " .. type(records), vim.log.levels.WARN)
    return false
  end
  if records[1] == nil then
    records = { records }
  end
  local list = {}
  for i, r in ipairs(records) do
    local copy = type(r) == "table" and vim.deepcopy(r) or r
    if type(copy) == "table" then
      copy.project = copy.project or default_project()
      copy.user = copy.user or M.config.user
    end
    list[i] = copy
  end
  if not M.server_found() then
    notify(missing_message(), vim.log.levels.ERROR, true)
    return false
  end
  M.request("usage/record", { records = list }, function(result, err)
    if err then
      notify("usage/record failed: " .. tostring(err.message or err), vim.log.levels.WARN)
    elseif type(result) == "table" and type(result.rejected) == "table" and #result.rejected > 0 then
      local first = result.rejected[1]
      notify(string.format("%d record(s) rejected; record %s: %s: %s", #result.rejected, tostring(first.index),
        fmt.plain(first.field), fmt.plain(first.message)), vim.log.levels.WARN)
    end
    if callback then
      callback(result, err)
    end
  end)
  return true
end

-- floating windows -----------------------------------------------------------------------

local function close_float()
  if state.float_win and vim.api.nvim_win_is_valid(state.float_win) then
    vim.api.nvim_win_close(state.float_win, true)
  end
  state.float_win = nil
end

--- Shows `lines` in a centered float closable with q or <Esc>; `marks` are {line, hl group}.
function M.open_float(title, lines, marks)
  close_float()
  local body = {}
  local width = vim.fn.strdisplaywidth(title)
  for i, line in ipairs(lines) do
    body[i] = " " .. line .. " "
    width = math.max(width, vim.fn.strdisplaywidth(body[i]))
  end
  width = math.min(width, vim.o.columns - 4)
  local height = math.min(#body, math.max(1, vim.o.lines - 6))
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, body)
  local ns = vim.api.nvim_create_namespace("usage_ls")
  for _, mark in ipairs(marks or {}) do
    vim.api.nvim_buf_add_highlight(buf, ns, mark[2], mark[1], 0, -1)
  end
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "usage_ls"
  local win_opts = {
    relative = "editor",
    width = width,
    height = height,
    row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
    style = "minimal",
    border = "rounded",
  }
  -- titles on borders came with 0.9; older versions refuse the key, so fall back without
  local ok, win = pcall(vim.api.nvim_open_win, buf, true, vim.tbl_extend("force", win_opts, {
    title = " " .. title .. " ",
    title_pos = "center",
  }))
  if not ok then
    table.insert(body, 1, " " .. title)
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, 0, false, { " " .. title })
    vim.bo[buf].modifiable = false
    vim.api.nvim_buf_add_highlight(buf, ns, "Title", 0, 0, -1)
    win_opts.height = math.min(#body, math.max(1, vim.o.lines - 6))
    win = vim.api.nvim_open_win(buf, true, win_opts)
  end
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", key, close_float, { buffer = buf, nowait = true, silent = true })
  end
  state.float_win = win
  return win, buf
end

--- Highlights for table lines starting at `first`: the header row and the rule under it.
local function table_marks(first, marks)
  marks = marks or {}
  marks[#marks + 1] = { first, "Title" }
  marks[#marks + 1] = { first + 1, "Comment" }
  return marks
end

local function span(args)
  local flt = vim.empty_dict() -- {} would go out as a JSON list
  flt["from"], flt["to"] = args[1], args[2] or args[1]
  local label = "today"
  if flt["from"] then
    label = flt["from"] == flt["to"] and flt["from"] or (flt["from"] .. " .. " .. flt["to"])
  end
  return flt, label
end

local function failed(what, err)
  notify(what .. ": " .. fmt.plain(err.message or vim.inspect(err)), vim.log.levels.ERROR)
end

--- :UsageModels [from [to]]: today's (or the range's) token split by model.
function M.show_models(args)
  local flt, label = span(args or {})
  M.request("usage/tokenSplit", flt, function(result, err)
    if err then
      return failed("usage/tokenSplit", err)
    end
    local lines = fmt.models(result)
    M.open_float("AI usage by model · " .. label, lines, #lines > 1 and table_marks(0) or {})
  end)
end

--- :UsageProjects [from [to]]
function M.show_projects(args)
  local flt, label = span(args or {})
  M.request("usage/projects", flt, function(result, err)
    if err then
      return failed("usage/projects", err)
    end
    local lines = fmt.projects(result)
    M.open_float("AI usage by project · " .. label, lines, #lines > 1 and table_marks(0) or {})
  end)
end

--- :UsageToday [from [to]]: the totals, then the split by model.
function M.show_today(args)
  local flt, label = span(args or {})
  M.request("usage/summary", flt, function(summary, err)
    if err then
      return failed("usage/summary", err)
    end
    M.request("usage/tokenSplit", flt, function(split, err2)
      if err2 then
        return failed("usage/tokenSplit", err2)
      end
      local lines = fmt.summary(summary, "Totals")
      local marks = table_marks(0)
      lines[#lines + 1] = ""
      local first = #lines
      local models = fmt.models(split)
      vim.list_extend(lines, models)
      if #models > 1 then
        table_marks(first, marks)
      end
      M.open_float("AI usage · " .. label, lines, marks)
    end)
  end)
end

-- dashboard ------------------------------------------------------------------------------

--- :UsageDashboard: runs `usage-ls dashboard` (which serves the page on 127.0.0.1 and opens
--- the browser) and reports the URL it prints, or its error message.
function M.dashboard()
  local running = state.dashboard
  if running and running.url then
    if vim.ui and vim.ui.open then -- 0.10+
      vim.ui.open(running.url)
    end
    notify("Usage Dashboard: " .. running.url)
    return
  end
  if not M.server_found() then
    return notify(missing_message(), vim.log.levels.ERROR, true)
  end
  local cmd = M.cli(vim.list_extend({ "dashboard" }, vim.deepcopy(M.config.dashboard_args or {})))
  local dash = { output = {} }
  local function on_output(_, data)
    for _, line in ipairs(data or {}) do
      if line ~= "" then
        table.insert(dash.output, fmt.plain(line))
        local url = not dash.url and line:match("https?://[%w%-%._~:/%?#%[%]@!%$&'%*%+,;=%%]+")
        if url then
          dash.url = url:gsub("[%.,;:%)%]]+$", "")
          notify("Usage Dashboard: " .. dash.url)
        end
      end
    end
  end
  dash.job = vim.fn.jobstart(cmd, {
    on_stdout = on_output,
    on_stderr = on_output,
    on_exit = function(_, code)
      if state.dashboard == dash then
        state.dashboard = nil
      end
      if code ~= 0 and not dash.url then
        local output = table.concat(dash.output, " ")
        notify(string.format("`%s` failed (exit %d): %s", table.concat(cmd, " "), code,
          output ~= "" and output or "no output"), vim.log.levels.ERROR)
      end
    end,
  })
  if dash.job <= 0 then
    return notify("could not run " .. table.concat(cmd, " "), vim.log.levels.ERROR)
  end
  state.dashboard = dash
end

-- :UsageInfo and :checkhealth ------------------------------------------------------------

--- What :checkhealth usage_ls and :UsageInfo report: a list of {kind, text}, kind one of
--- "ok", "info", "warn", "error".
function M.info()
  local items = {}
  local function add(kind, text)
    items[#items + 1] = { kind, text }
  end
  local cmd = M.server_cmd()
  if M.server_found() then
    add("ok", "server found: " .. vim.fn.exepath(cmd[1]) .. " (command: " .. table.concat(cmd, " ") .. ")")
    local version = vim.fn.system(M.cli({ "--version" }))
    if vim.v.shell_error == 0 then
      add("ok", "version: " .. vim.trim(version))
    else
      add("warn", "`usage-ls --version` failed: " .. vim.trim(version))
    end
    local config = vim.fn.system(M.cli({ "config" }))
    local dir = config:match("data directory:%s*([^\n]+)")
    if dir then
      add("ok", "data dir: " .. dir)
    else
      add("warn", "`usage-ls config` did not name the data directory: " .. vim.trim(config))
    end
  else
    add("error", missing_message())
  end
  local client = get_client()
  if client then
    add("ok", string.format("client running (id %d, %s)", client.id, state.ready and "initialized" or "starting"))
  else
    add("info", "client not running")
  end
  if state.status then
    add("info", "status: " .. state.status.text .. " (" .. state.status.level .. ")")
  end
  if state.last_error then
    add("warn", "last error: " .. fmt.plain(state.last_error))
  else
    add("ok", "last error: none")
  end
  return items
end

function M.show_info()
  local lines, marks = {}, {}
  local ok = vim.fn.hlexists("DiagnosticOk") == 1 and "DiagnosticOk" or "String" -- DiagnosticOk: 0.9+
  local hl = { ok = ok, info = "Normal", warn = "DiagnosticWarn", error = "DiagnosticError" }
  for i, item in ipairs(M.info()) do
    lines[i] = string.format("%-5s %s", item[1]:upper(), item[2])
    marks[#marks + 1] = { i - 1, hl[item[1]] }
  end
  M.open_float("usage-ls", lines, marks)
end

return M
