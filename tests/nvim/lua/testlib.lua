-- Shared by the Lua test scripts: loads the plugin as a user's config would, captures
-- messages, waits with a deadline (a timeout is an error, never a hang) and writes results.
local t = { out = {}, messages = {} }

vim.opt.runtimepath:prepend(os.getenv("USAGE_LS_PLUGIN"))
vim.cmd("runtime! plugin/usage_ls.lua")
vim.o.columns, vim.o.lines = 160, 40

-- every vim.notify() the plugin makes, kept for the assertions, and appended to a file at
-- once, so that messages sent while Neovim quits (after t.done()) are seen too
local log = assert(io.open(os.getenv("USAGE_LS_TEST_OUT") .. ".messages", "w"))
vim.notify = function(msg, level)
  local entry = { msg = msg, level = level or vim.log.levels.INFO }
  table.insert(t.messages, entry)
  log:write(vim.fn.json_encode(entry), "\n")
  log:flush()
end

t.server_cmd = { os.getenv("USAGE_LS_SERVER"), "serve", "--stdio" }

function t.wait(what, cond, ms)
  if not vim.wait(ms or 10000, cond, 20) then
    error("timed out waiting for " .. what, 2)
  end
end

function t.floats()
  local wins = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      table.insert(wins, win)
    end
  end
  return wins
end

function t.float_lines()
  local win = t.floats()[1]
  return win and vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false) or nil
end

--- Runs a command that opens a float; returns the float's lines, after checking `q` closes it.
function t.float_of(command)
  vim.cmd(command)
  t.wait("a float from :" .. command, function()
    return #t.floats() > 0
  end)
  local lines = t.float_lines()
  vim.api.nvim_feedkeys("q", "x", false)
  t.wait("q to close the float of :" .. command, function()
    return #t.floats() == 0
  end, 2000)
  return lines
end

--- Evaluates a 'statusline' expression the way Neovim draws it.
function t.eval_statusline(expr)
  return vim.api.nvim_eval_statusline(expr, { maxwidth = 200 }).str
end

--- Runs a shell command as another process, asynchronously; waits for it to finish.
function t.run(cmd)
  local code
  local job = vim.fn.jobstart(cmd, {
    on_exit = function(_, c)
      code = c
    end,
  })
  assert(job > 0, "could not start " .. table.concat(cmd, " "))
  t.wait(table.concat(cmd, " "), function()
    return code ~= nil
  end, 30000)
  assert(code == 0, table.concat(cmd, " ") .. " exited " .. code)
end

function t.done()
  t.out.finished = true -- also keeps an otherwise empty result a JSON object
  local f = assert(io.open(os.getenv("USAGE_LS_TEST_OUT"), "w"))
  f:write(vim.fn.json_encode(t.out))
  f:close()
end

return t
