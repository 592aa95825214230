--- Text for the floating windows: numbers formatted as the server's CLI formats them, and
--- aligned tables. Pure functions over the JSON the server returns; every user string
--- (model, project) goes through `plain` before it is shown.
local M = {}

local function value(x)
  if x == nil or x == vim.NIL then
    return nil
  end
  return x
end

--- A user string safe to show as text: control, bidi and zero-width characters become '?'.
function M.plain(s)
  s = tostring(value(s) or "")
  s = s:gsub("[%z\1-\31\127]", "?")
  s = s:gsub("\194[\128-\159]", "?") -- C1 controls U+0080-U+009F
  s = s:gsub("\194\173", "?") -- soft hyphen
  s = s:gsub("\216\156", "?") -- Arabic letter mark U+061C
  s = s:gsub("\226\128[\139-\143\168-\174]", "?") -- U+200B-U+200F, U+2028-U+202E
  s = s:gsub("\226\129[\160-\175]", "?") -- U+2060-U+206F
  s = s:gsub("\239\187\191", "?") -- BOM / zero-width no-break space
  return s
end

local function commas(digits)
  local sign, int, frac = digits:match("^(-?)(%d+)(.*)$")
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. int .. frac
end

function M.count(n)
  return commas(string.format("%d", value(n) or 0))
end

function M.credits(x)
  x = value(x)
  if x == nil then
    return "unpriced"
  end
  return commas(string.format(math.abs(x) >= 100 and "%.0f" or "%.1f", x))
end

function M.usd(x)
  x = value(x)
  if x == nil then
    return "unpriced"
  elseif x == 0 then
    return "$0.00"
  elseif math.abs(x) < 0.01 then
    return string.format("$%.4f", x)
  end
  return "$" .. commas(string.format("%.2f", x))
end

--- Cost of a row: "unpriced" when nothing in it has a price, "+N unpriced" when part has none.
function M.cost(row)
  local unpriced = value(row.unpricedMessages) or 0
  if unpriced > 0 and unpriced >= (value(row.messages) or 0) then
    return "unpriced"
  end
  local text = M.usd(row.costUsd)
  if unpriced > 0 then
    text = text .. " +" .. M.count(unpriced) .. " unpriced"
  end
  return text
end

function M.row_credits(row)
  local unpriced = value(row.unpricedMessages) or 0
  if unpriced > 0 and unpriced >= (value(row.messages) or 0) then
    return "unpriced"
  end
  return M.credits(row.credits)
end

local function width(s)
  return vim.fn.strdisplaywidth(s)
end

local function pad(s, w, align)
  local gap = string.rep(" ", w - width(s))
  return align == "r" and gap .. s or s .. gap
end

--- Lines of an aligned table: a header, a rule, then the rows. `align` is "l"/"r" per column.
function M.table(headers, rows, align)
  align = align or ("l" .. string.rep("r", #headers - 1))
  local widths = {}
  for i, h in ipairs(headers) do
    widths[i] = width(h)
    for _, row in ipairs(rows) do
      widths[i] = math.max(widths[i], width(row[i]))
    end
  end
  local function line(cells)
    local out = {}
    for i, cell in ipairs(cells) do
      out[i] = pad(cell, widths[i], align:sub(i, i))
    end
    return (table.concat(out, "  "):gsub("%s+$", ""))
  end
  local rules = {}
  for i, w in ipairs(widths) do
    rules[i] = string.rep("─", w)
  end
  local lines = { line(headers), line(rules) }
  for _, row in ipairs(rows) do
    lines[#lines + 1] = line(row)
  end
  return lines
end

--- `usage/tokenSplit` result -> table lines.
function M.models(result)
  local rows = {}
  for _, m in ipairs(value(result) and result.models or {}) do
    rows[#rows + 1] = {
      M.plain(m.model),
      M.count(m.messages),
      M.count(m.inputTokens),
      M.count(m.outputTokens),
      M.count(m.cacheReadTokens),
      M.count(m.cacheWriteTokens),
      M.count(m.totalTokens),
      M.row_credits(m),
      M.cost(m),
    }
  end
  if #rows == 0 then
    return { "No AI usage recorded." }
  end
  return M.table({ "Model", "Msgs", "Input", "Output", "Cache read", "Cache write", "Total", "Credits", "Cost" }, rows)
end

--- `usage/projects` result -> table lines.
function M.projects(result)
  local rows = {}
  for _, p in ipairs(value(result) and result.projects or {}) do
    rows[#rows + 1] = {
      M.plain(p.project),
      M.count(p.messages),
      M.count(p.totalTokens),
      M.credits(p.credits),
      M.cost(p),
    }
  end
  if #rows == 0 then
    return { "No AI usage recorded." }
  end
  return M.table({ "Project", "Msgs", "Tokens", "Credits", "Cost" }, rows)
end

--- `usage/summary` result -> a two-column table of the totals; `label` heads the first column.
function M.summary(s, label)
  local rows = {
    { "Credits (premium)", M.credits(s.credits) },
    { "Cost (USD)", M.usd(s.costUsd) },
    { "Messages", M.count(s.messages) },
    { "Input tokens", M.count(s.inputTokens) },
    { "Output tokens", M.count(s.outputTokens) },
    { "Cache read tokens", M.count(s.cacheReadTokens) },
    { "Cache write tokens", M.count(s.cacheWriteTokens) },
    { "Total tokens", M.count(s.totalTokens) },
  }
  if (value(s.unpricedMessages) or 0) > 0 then
    rows[#rows + 1] = { "Unpriced messages", M.count(s.unpricedMessages) }
  end
  return M.table({ label or "Totals", "" }, rows)
end

return M
