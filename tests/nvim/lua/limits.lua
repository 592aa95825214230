-- A plan window in the statusline: the most constraining windows after the credits, as in
-- VS Code, and the component coloured by the warning level (the text as Neovim draws it).
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

u.setup({ cmd = t.server_cmd })
t.wait("the status with the plan windows", function()
  return u.statusline():find("5h", 1, true) ~= nil
end)
t.out.text = u.statusline()
t.out.level = u.status().level
t.out.tooltip = u.status().tooltip
t.out.highlight = u.highlight()
local drawn = vim.api.nvim_eval_statusline("%{%v:lua.require'usage_ls'.statusline_hl()%}",
  { maxwidth = 200, highlights = true })
t.out.drawn = drawn.str
t.out.groups = {}
for _, h in ipairs(drawn.highlights or {}) do
  table.insert(t.out.groups, { start = h.start, group = h.group })
end
t.done()
