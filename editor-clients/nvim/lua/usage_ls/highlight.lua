--- The plugin's highlight groups, linked by default to standard ones (`:hi default link`), so
--- a colorscheme or the user can restyle them and a definition of their own is never replaced.
local M = {}

--- {group, the standard group it links to}; see :help usage_ls-highlights.
M.groups = {
  { "UsageLsTitle", "Title" }, -- the title of a float
  { "UsageLsHeader", "Title" }, -- the header row of a table
  { "UsageLsMuted", "Comment" }, -- the rule under a table's header
  { "UsageLsOk", "DiagnosticOk" }, -- OK lines of :UsageInfo (String before 0.9)
  { "UsageLsInfo", "Normal" }, -- INFO lines of :UsageInfo
  { "UsageLsWarning", "DiagnosticWarn" }, -- WARN lines of :UsageInfo
  { "UsageLsError", "DiagnosticError" }, -- ERROR lines of :UsageInfo
}

--- Defines the groups that are not defined yet. Cheap; called by setup() and before each float.
function M.define()
  for _, group in ipairs(M.groups) do
    local name, link = group[1], group[2]
    if link == "DiagnosticOk" and vim.fn.hlexists(link) == 0 then -- DiagnosticOk came with 0.9
      link = "String"
    end
    vim.api.nvim_set_hl(0, name, { link = link, default = true })
  end
end

return M
