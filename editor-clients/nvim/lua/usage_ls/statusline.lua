--- The statusline component: the last status the server sent, cached as plain text, so that
--- statusline() costs nothing on a redraw and never waits for the server. client.lua fills
--- the cache from `usage/didChange` pushes (or `usage/statusBar` answers for BYOK).
local fmt = require("usage_ls.format")

local M = {}

local status = nil -- the last usage/statusBar result {text, level, tooltip}

local function redraw()
  vim.cmd("redrawstatus!")
end

--- Caches a `usage/statusBar` result; redraws the statuslines and fires User UsageLsChanged.
--- Anything not shaped like one is ignored.
function M.set(result)
  if type(result) ~= "table" or type(result.text) ~= "string" then
    return
  end
  status = {
    text = fmt.plain(result.text),
    level = type(result.level) == "string" and result.level or "normal",
    tooltip = type(result.tooltip) == "string" and result.tooltip or "",
  }
  vim.schedule(function()
    redraw()
    vim.api.nvim_exec_autocmds("User", { pattern = "UsageLsChanged", modeline = false })
  end)
end

--- Forgets the status (the server is gone) and redraws.
function M.clear()
  status = nil
  vim.schedule(redraw)
end

--- Today's status text, e.g. "12.4 cr ▁▂▃▅▇". Never blocks: returns what the server last pushed
--- ("" before the first push). Arguments are ignored, so lualine can call it as a component.
function M.statusline()
  return status and status.text or ""
end

local GROUPS = { warning = "UsageLsWarning", error = "UsageLsError" }

--- The highlight group of the status's level ("UsageLsWarning", "UsageLsError"), nil when
--- normal: a lualine component's `color`.
function M.highlight()
  return status and GROUPS[status.level] or nil
end

--- The status text as a statusline item: `%` doubled, and coloured by level when it is
--- "warning" or "error" (a budget, or a plan window past its threshold or running ahead).
--- For `%{%...%}` or `%!` (the result is read as statusline syntax).
function M.statusline_hl()
  if not status then
    return ""
  end
  local text = status.text:gsub("%%", "%%%%")
  local group = GROUPS[status.level]
  return group and ("%#" .. group .. "#" .. text .. "%*") or text
end

--- The last status: {text, level = "normal"|"warning"|"error", tooltip = Markdown}.
function M.status()
  return vim.deepcopy(status or { text = "", level = "normal", tooltip = "" })
end

--- The cached status itself, or nil (for :UsageInfo).
function M.current()
  return status
end

return M
