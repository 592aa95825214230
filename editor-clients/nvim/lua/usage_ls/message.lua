--- Messages to the user: every vim.notify() of the plugin goes through here, prefixed with
--- "usage-ls: ", and the last warning or error is kept for :UsageInfo and :checkhealth.
local M = {}

local last_error = nil
local told = {} -- messages already shown once

--- Shows `msg` (on the main loop, so it is safe from callbacks). `once`: never show it again.
function M.notify(msg, level, once)
  level = level or vim.log.levels.INFO
  if level >= vim.log.levels.WARN then
    last_error = msg
  end
  if once then
    if told[msg] then
      return
    end
    told[msg] = true
  end
  vim.schedule(function()
    vim.notify("usage-ls: " .. msg, level)
  end)
end

--- Remembers an error seen elsewhere (e.g. a warning the server showed itself).
function M.set_last_error(msg)
  last_error = msg
end

--- The last warning or error, or nil.
function M.last_error()
  return last_error
end

return M
