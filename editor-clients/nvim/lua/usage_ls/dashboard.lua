--- :UsageDashboard: runs `usage-ls dashboard` (which serves the page on 127.0.0.1 and opens
--- the browser) as a job, and reports the URL it prints, or its error message.
local client = require("usage_ls.client")
local config = require("usage_ls.config")
local fmt = require("usage_ls.format")
local message = require("usage_ls.message")

local M = {}

local ERROR = vim.log.levels.ERROR
local running = nil -- {job, url, output} while the CLI runs

function M.open()
  if running and running.url then
    if vim.ui and vim.ui.open then -- 0.10+
      vim.ui.open(running.url)
    end
    message.notify("Usage Dashboard: " .. running.url)
    return
  end
  if not client.server_found() then
    return message.notify(client.missing_message(), ERROR, true)
  end
  local cmd = client.cli(vim.list_extend({ "dashboard" }, vim.deepcopy(config.values.dashboard_args or {})))
  local dash = { output = {} }
  local function on_output(_, data)
    for _, line in ipairs(data or {}) do
      if line ~= "" then
        table.insert(dash.output, fmt.plain(line))
        local url = not dash.url and line:match("https?://[%w%-%._~:/%?#%[%]@!%$&'%*%+,;=%%]+")
        if url then
          dash.url = url:gsub("[%.,;:%)%]]+$", "")
          message.notify("Usage Dashboard: " .. dash.url)
        end
      end
    end
  end
  dash.job = vim.fn.jobstart(cmd, {
    on_stdout = on_output,
    on_stderr = on_output,
    on_exit = function(_, code)
      if running == dash then
        running = nil
      end
      if code ~= 0 and not dash.url then
        local output = table.concat(dash.output, " ")
        message.notify(string.format("`%s` failed (exit %d): %s", table.concat(cmd, " "), code,
          output ~= "" and output or "no output"), ERROR)
      end
    end,
  })
  if dash.job <= 0 then
    return message.notify("could not run " .. table.concat(cmd, " "), ERROR)
  end
  running = dash
end

return M
