--- record(): how AI plugins report their usage. Fills in `project` and `user`, sends the
--- records with `usage/record` and reports what the server rejected.
local client = require("usage_ls.client")
local config = require("usage_ls.config")
local fmt = require("usage_ls.format")
local message = require("usage_ls.message")

local M = {}

local WARN = vim.log.levels.WARN

local function default_project()
  local project = config.values.project
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
    message.notify("record() expects a record or a list of records, got " .. type(records), WARN)
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
      copy.user = copy.user or config.values.user
    end
    list[i] = copy
  end
  if not client.server_found() then
    message.notify(client.missing_message(), vim.log.levels.ERROR, true)
    return false
  end
  client.request("usage/record", { records = list }, function(result, err)
    if err then
      message.notify("usage/record failed: " .. tostring(err.message or err), WARN)
    elseif type(result) == "table" and type(result.rejected) == "table" and #result.rejected > 0 then
      local first = result.rejected[1]
      message.notify(string.format("%d record(s) rejected; record %s: %s: %s", #result.rejected,
        tostring(first.index), fmt.plain(first.field), fmt.plain(first.message)), WARN)
    end
    if callback then
      callback(result, err)
    end
  end)
  return true
end

return M
