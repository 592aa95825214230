-- :UsageDashboard runs `usage-ls dashboard` and reports the URL it prints, or its error.
local t = dofile(os.getenv("USAGE_LS_TEST_LIB"))
local u = require("usage_ls")

local cli = os.getenv("DASHBOARD_CLI")
u.setup({ cmd = { cli, "serve", "--stdio" }, dashboard_args = { "--no-open" } })
vim.cmd("UsageDashboard")
t.wait("a message from :UsageDashboard", function()
  return #t.messages > 0
end, 30000)
vim.wait(300) -- nothing more should come

-- while Neovim runs, the page is served at the URL it reported
local url = t.messages[1].msg:match("Usage Dashboard: (%S+)")
if url and os.getenv("FETCH_WITH") then
  t.run({ os.getenv("FETCH_WITH"), "-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20)", url })
  t.out.fetched = url
end
t.done()
