--- The floating windows: one centered float at a time, closed with q or <Esc>, and the views
--- of :UsageToday, :UsageModels, :UsageProjects and :UsageInfo drawn in it. The tables come
--- from format.lua; this file only requests, lays out and highlights.
local client = require("usage_ls.client")
local fmt = require("usage_ls.format")
local highlight = require("usage_ls.highlight")
local message = require("usage_ls.message")

local M = {}

local float_win = nil

local function close_float()
  if float_win and vim.api.nvim_win_is_valid(float_win) then
    vim.api.nvim_win_close(float_win, true)
  end
  float_win = nil
end

--- Shows `lines` in a centered float closable with q or <Esc>; `marks` are {line, hl group}.
function M.open_float(title, lines, marks)
  close_float()
  highlight.define()
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
    vim.api.nvim_buf_add_highlight(buf, ns, "UsageLsTitle", 0, 0, -1)
    win_opts.height = math.min(#body, math.max(1, vim.o.lines - 6))
    win = vim.api.nvim_open_win(buf, true, win_opts)
  else
    local winhl = vim.wo[win].winhighlight -- style = "minimal" may have set some
    vim.wo[win].winhighlight = (winhl ~= "" and winhl .. "," or "") .. "FloatTitle:UsageLsTitle"
  end
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", key, close_float, { buffer = buf, nowait = true, silent = true })
  end
  float_win = win
  return win, buf
end

--- Highlights for table lines starting at `first`: the header row and the rule under it.
local function table_marks(first, marks)
  marks = marks or {}
  marks[#marks + 1] = { first, "UsageLsHeader" }
  marks[#marks + 1] = { first + 1, "UsageLsMuted" }
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
  message.notify(what .. ": " .. fmt.plain(err.message or vim.inspect(err)), vim.log.levels.ERROR)
end

--- :UsageModels [from [to]]: today's (or the range's) token split by model.
function M.show_models(args)
  local flt, label = span(args or {})
  client.request("usage/tokenSplit", flt, function(result, err)
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
  client.request("usage/projects", flt, function(result, err)
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
  client.request("usage/summary", flt, function(summary, err)
    if err then
      return failed("usage/summary", err)
    end
    client.request("usage/tokenSplit", flt, function(split, err2)
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

--- :UsageInfo: the :checkhealth report in a float.
function M.show_info()
  local lines, marks = {}, {}
  local hl = { ok = "UsageLsOk", info = "UsageLsInfo", warn = "UsageLsWarning", error = "UsageLsError" }
  for i, item in ipairs(require("usage_ls.health").report()) do
    lines[i] = string.format("%-5s %s", item[1]:upper(), item[2])
    marks[#marks + 1] = { i - 1, hl[item[1]] }
  end
  M.open_float("usage-ls", lines, marks)
end

return M
