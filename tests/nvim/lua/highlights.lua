-- The plugin's highlight groups: defined by setup() as default links to standard groups,
-- used by the floats, never replacing a user's own definition, and back after :colorscheme.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

local GROUPS = { "UsageLsTitle", "UsageLsHeader", "UsageLsMuted", "UsageLsOk", "UsageLsInfo", "UsageLsWarning",
  "UsageLsError" }

--- group -> the group it finally shows as (itself when it has attributes of its own), and
--- on 0.9+ (nvim_get_hl) the group it links to directly
local function resolved()
  local out = { links = vim.api.nvim_get_hl and {} or vim.NIL }
  for _, name in ipairs(GROUPS) do
    out[name] = vim.fn.synIDattr(vim.fn.synIDtrans(vim.fn.hlID(name)), "name")
    if vim.api.nvim_get_hl then
      out.links[name] = vim.api.nvim_get_hl(0, { name = name }).link or vim.NIL
    end
  end
  return out
end

--- {row, group} of each highlight in the float's buffer
local function float_marks(command)
  vim.cmd(command)
  t.wait("a float from :" .. command, function()
    return #t.floats() > 0
  end)
  local win = t.floats()[1]
  local buf = vim.api.nvim_win_get_buf(win)
  local marks = {}
  local ns = vim.api.nvim_create_namespace("usage_ls")
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })) do
    table.insert(marks, { mark[2], mark[4].hl_group })
  end
  local border_title = vim.api.nvim_win_get_config(win).title ~= nil -- 0.9+
  local winhl = vim.wo[win].winhighlight
  vim.api.nvim_feedkeys("q", "x", false)
  return marks, border_title and winhl or vim.NIL
end

-- a user's own colours for two groups, set before the plugin starts
vim.cmd("highlight UsageLsMuted guifg=#ff0000 ctermfg=1")
vim.cmd("highlight link UsageLsWarning Todo")

u.setup({ cmd = t.server_cmd })
t.wait("the server to be ready", function()
  return u.statusline() ~= ""
end)
t.out.after_setup = resolved()
t.out.models_marks, t.out.models_winhighlight = float_marks("UsageModels")
t.out.info_marks = float_marks("UsageInfo")
t.out.after_floats = resolved()
t.out.muted_fg = vim.fn.synIDattr(vim.fn.hlID("UsageLsMuted"), "fg#", "gui")
t.out.standard = {}
for _, name in ipairs({ "Title", "Comment", "DiagnosticOk", "String", "Normal", "DiagnosticWarn", "DiagnosticError" }) do
  t.out.standard[name] = vim.fn.synIDattr(vim.fn.synIDtrans(vim.fn.hlID(name)), "name")
end

-- a colorscheme clears every group (the user's colours too); the links come back
vim.cmd("colorscheme default")
t.out.after_colorscheme = resolved()
t.done()
