--- :checkhealth usage_ls, and the same report for :UsageInfo (report()): the server and its
--- version, the data dir, the client, today's status and the last error.
local client = require("usage_ls.client")
local fmt = require("usage_ls.format")
local message = require("usage_ls.message")
local statusline = require("usage_ls.statusline")

local M = {}

--- A list of {kind, text}, kind one of "ok", "info", "warn", "error".
function M.report()
  local items = {}
  local function add(kind, text)
    items[#items + 1] = { kind, text }
  end
  local cmd = client.server_cmd()
  if client.server_found() then
    add("ok", "server found: " .. vim.fn.exepath(cmd[1]) .. " (command: " .. table.concat(cmd, " ") .. ")")
    local version = vim.fn.system(client.cli({ "--version" }))
    if vim.v.shell_error == 0 then
      add("ok", "version: " .. vim.trim(version))
    else
      add("warn", "`usage-ls --version` failed: " .. vim.trim(version))
    end
    local config = vim.fn.system(client.cli({ "config" }))
    local dir = config:match("data directory:%s*([^\n]+)")
    if dir then
      add("ok", "data dir: " .. dir)
    else
      add("warn", "`usage-ls config` did not name the data directory: " .. vim.trim(config))
    end
  else
    add("error", client.missing_message())
  end
  local running = client.get()
  if running then
    add("ok", string.format("client running (id %d, %s)", running.id, client.is_ready() and "initialized" or "starting"))
  else
    add("info", "client not running")
  end
  local status = statusline.current()
  if status then
    add("info", "status: " .. status.text .. " (" .. status.level .. ")")
  end
  local last_error = message.last_error()
  if last_error then
    add("warn", "last error: " .. fmt.plain(last_error))
  else
    add("ok", "last error: none")
  end
  return items
end

function M.check()
  local health = vim.health or require("health") -- vim.health: 0.9+
  local start = health.start or health.report_start
  local report = {
    ok = health.ok or health.report_ok,
    info = health.info or health.report_info,
    warn = health.warn or health.report_warn,
    error = health.error or health.report_error,
  }
  start("usage-ls")
  for _, item in ipairs(M.report()) do
    report[item[1]](item[2])
  end
end

return M
