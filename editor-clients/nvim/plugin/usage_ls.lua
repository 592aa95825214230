-- usage-ls commands. The plugin does nothing until require("usage_ls").setup() starts the
-- server; each command loads the module on first use.
if vim.g.loaded_usage_ls then
  return
end
vim.g.loaded_usage_ls = true

local function command(name, fn, desc, nargs)
  vim.api.nvim_create_user_command(name, function(args)
    require("usage_ls")[fn](args.fargs)
  end, { nargs = nargs or 0, desc = desc })
end

command("UsageDashboard", "dashboard", "usage-ls: open the Usage Dashboard in the browser")
command("UsageToday", "show_today", "usage-ls: today's AI usage [from [to]]", "*")
command("UsageModels", "show_models", "usage-ls: AI usage by model [from [to]]", "*")
command("UsageProjects", "show_projects", "usage-ls: AI usage by project [from [to]]", "*")
command("UsageInfo", "show_info", "usage-ls: server, version, data dir, last error")
