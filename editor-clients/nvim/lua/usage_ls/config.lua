--- The options of setup(): their defaults, their checks, and the values in effect.
--- A bad or unknown option is reported and left out (its default is used); the plugin never
--- fails on its configuration.
local M = {}

M.DEFAULT_CMD = { "usage-ls", "serve", "--stdio" }

M.defaults = {
  cmd = nil, -- default: DEFAULT_CMD, found on PATH
  data_dir = nil, -- default: the server's ($USAGE_LS_DATA_DIR or the platform's data dir)
  project = nil, -- string, or function() -> string; default: the current directory's name
  user = nil, -- default: the server's (`user` in config.toml, else the login name)
  billing = "auto", -- what the statusline counts: "premium" credits, "byok" dollars, or "auto" (what you use)
  dashboard_args = {}, -- extra arguments for `usage-ls dashboard` (e.g. { "--port", "8765" })
  hover_key = "K", -- mapped to vim.lsp.buf.hover() where nothing maps it yet; false: leave keys alone
}

--- The options in effect: the defaults until setup() is called.
M.values = vim.deepcopy(M.defaults)

local function is_list_of_strings(v, non_empty)
  if type(v) ~= "table" or (non_empty and #v == 0) then
    return false
  end
  local n = 0
  for _, item in pairs(v) do
    n = n + 1
    if type(item) ~= "string" then
      return false
    end
  end
  return n == #v -- no holes, no named keys
end

local function is_text(v)
  return type(v) == "string" and v ~= ""
end

-- option = {validator, what was expected}
local checks = {
  cmd = {
    function(v)
      return is_list_of_strings(v, true)
    end,
    'a list of strings, e.g. { "/path/to/usage-ls", "serve", "--stdio" }',
  },
  data_dir = { is_text, "a directory path (a string)" },
  project = {
    function(v)
      return is_text(v) or type(v) == "function"
    end,
    "a string, or a function that returns one",
  },
  user = { is_text, "a string" },
  billing = {
    function(v)
      return v == "auto" or v == "premium" or v == "byok"
    end,
    '"auto", "premium" or "byok"',
  },
  dashboard_args = { is_list_of_strings, 'a list of strings, e.g. { "--port", "8765" }' },
  hover_key = {
    function(v)
      return is_text(v) or v == false
    end,
    'a key such as "K", or false',
  },
}

local function show(value)
  local text = vim.inspect(value, { newline = " ", indent = "" })
  return #text > 60 and text:sub(1, 57) .. "..." or text
end

-- 0.11 validates one value: vim.validate(name, value, validator, message); before, a table of
-- {value, validator, message} by name (deprecated on 0.11).
local ONE_VALUE_FORM = pcall(vim.validate, "probe", 0, "number")

--- vim.validate()'s message for a bad value ("billing: expected ..., got ..."), or nil.
local function problem(name, value)
  local validator, expected = checks[name][1], checks[name][2]
  local ok, err
  if ONE_VALUE_FORM then
    ok, err = pcall(vim.validate, name, value, validator, expected)
  else
    ok, err = pcall(vim.validate, { [name] = { value, validator, expected } })
  end
  if ok then
    return nil
  end
  err = tostring(err)
  local raw = "got " .. tostring(value) -- vim.validate shows a table as its address
  if err:sub(-#raw) == raw then
    err = err:sub(1, -#raw - 1) .. "got " .. show(value)
  end
  return err
end

--- Makes `opts` (from setup()) the options in effect. Returns the values and a list of
--- problems, one message for each bad option (its default is used) or unknown one (ignored).
function M.apply(opts)
  local values, problems = vim.deepcopy(M.defaults), {}
  if opts ~= nil and type(opts) ~= "table" then
    problems[1] = "setup(): expected a table of options, got " .. show(opts) .. "; using the defaults"
    opts = {}
  end
  local names = vim.tbl_keys(checks)
  table.sort(names)
  local unknown = {}
  for key in pairs(opts or {}) do
    if not checks[key] then
      unknown[#unknown + 1] = show(key)
    end
  end
  table.sort(unknown)
  for _, key in ipairs(unknown) do
    problems[#problems + 1] = string.format("setup(): unknown option %s (ignored); the options are: %s", key,
      table.concat(names, ", "))
  end
  for _, name in ipairs(names) do
    local value = (opts or {})[name]
    if value ~= nil then
      local err = problem(name, value)
      if err then
        local default = name == "cmd" and M.DEFAULT_CMD or M.defaults[name]
        problems[#problems + 1] = string.format("setup(): %s; using the default%s", err,
          default ~= nil and " " .. show(default) or "")
      else
        values[name] = vim.deepcopy(value) -- lists replace the default, never merge by index
      end
    end
  end
  M.values = values
  return values, problems
end

return M
