--- :checkhealth usage_ls: the same report as :UsageInfo.
local M = {}

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
  for _, item in ipairs(require("usage_ls").info()) do
    report[item[1]](item[2])
  end
end

return M
