"""Renders docs/neovim-*.png: the plugin in Neovim 0.11's real terminal UI, in tmux.

Not a test (pytest does not collect it). It runs `usage-ls demo --keep` for a realistic week of
data, opens a file in Neovim inside tmux, captures the pane with its colours
(`tmux capture-pane -e`) and draws the cells to PNG with Pillow:

    python3 -m venv .tools/shot && .tools/shot/bin/pip install pillow
    .tools/shot/bin/python tests/nvim/screenshot.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
NVIM = ROOT / ".tools" / "nvim011" / "bin" / "nvim"
SERVER = ROOT / ".venv" / "bin" / "usage-ls"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
COLS, ROWS = 112, 26
SOCKET = f"usage-ls-shot-{os.getpid()}"
TMUX = ["tmux", "-L", SOCKET, "-f", "/dev/null"]

INIT = """
vim.opt.runtimepath:prepend(%(plugin)r)
vim.cmd("runtime! plugin/usage_ls.lua")
vim.cmd("syntax on | filetype plugin on")
vim.o.termguicolors = true
vim.o.number = true
vim.o.laststatus = 2
vim.o.cmdheight = 1
vim.o.shortmess = vim.o.shortmess .. "I"
if vim.fn.exists("+winborder") == 1 then
  vim.o.winborder = "rounded" -- 0.11: borders on hover floats
end
local function colours()
  vim.api.nvim_set_hl(0, "UsageLs", { fg = "#1e1e2e", bg = "#a6e3a1", bold = true })
  vim.api.nvim_set_hl(0, "UsageLsMode", { fg = "#1e1e2e", bg = "#89b4fa", bold = true })
end
colours()
-- the usage component, coloured by the server's budget level
function _G.usage_hl()
  local level = require("usage_ls").status().level
  return level == "error" and "%%#DiagnosticError#" or level == "warning" and "%%#DiagnosticWarn#" or "%%#UsageLs#"
end
vim.o.statusline = "%%#UsageLsMode# %%f %%m%%*%%=%%{%%v:lua.usage_hl()%%} AI %%{v:lua.require'usage_ls'.statusline()} %%* %%l:%%c "
require("usage_ls").setup({ cmd = { %(server)r, "serve", "--stdio" } })
"""

SAMPLE = """-- Which model each AI task uses (hover a name with K for today's tokens)
local models = {
  chat = "claude-sonnet-4-5",
  review = "gemini-2.5-pro",
  completion = "gpt-4.1-mini",
  summaries = "claude-3-5-haiku-20241022",
  experiments = "acme-coder-v2",
}

vim.api.nvim_create_autocmd("User", {
  pattern = "CodeCompanionRequestFinished",
  callback = function(event)
    require("usage_ls").record({ model = event.data.adapter.model, inputTokens = 0, outputTokens = 0 })
  end,
})

return models
"""

# the 16 ANSI colours as a dark terminal shows them
BASE16 = [
    (30, 30, 46),
    (243, 139, 168),
    (166, 227, 161),
    (249, 226, 175),
    (137, 180, 250),
    (245, 194, 231),
    (148, 226, 213),
    (186, 194, 222),
    (88, 91, 112),
    (243, 139, 168),
    (166, 227, 161),
    (249, 226, 175),
    (137, 180, 250),
    (245, 194, 231),
    (148, 226, 213),
    (205, 214, 244),
]
DEFAULT_FG, DEFAULT_BG = (224, 226, 234), (20, 22, 27)


def xterm256(n: int) -> tuple[int, int, int]:
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    v = 8 + (n - 232) * 10
    return v, v, v


SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def parse(ansi: str) -> list[list[tuple[str, dict]]]:
    """ANSI text from `capture-pane -e` -> rows of (char, style) cells."""
    rows = []
    style = {"fg": None, "bg": None, "bold": False, "reverse": False}
    for line in ansi.split("\n")[:ROWS]:
        cells: list[tuple[str, dict]] = []
        pos = 0
        for m in SGR.finditer(line + "\x1b[m"):
            for ch in line[pos : m.start()]:
                cells.append((ch, dict(style)))
            pos = m.end()
            codes = [int(c) if c else 0 for c in re.split("[;:]", m.group(1))] if m.group(1) else [0]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    style = {"fg": None, "bg": None, "bold": False, "reverse": False}
                elif c == 1:
                    style["bold"] = True
                elif c == 22:
                    style["bold"] = False
                elif c == 7:
                    style["reverse"] = True
                elif c == 27:
                    style["reverse"] = False
                elif c in (38, 48) and i + 1 < len(codes):
                    key = "fg" if c == 38 else "bg"
                    if codes[i + 1] == 5:
                        style[key] = xterm256(codes[i + 2])
                        i += 2
                    elif codes[i + 1] == 2:
                        style[key] = tuple(codes[i + 2 : i + 5])
                        i += 4
                elif c == 39:
                    style["fg"] = None
                elif c == 49:
                    style["bg"] = None
                elif 30 <= c <= 37:
                    style["fg"] = BASE16[c - 30]
                elif 40 <= c <= 47:
                    style["bg"] = BASE16[c - 40]
                elif 90 <= c <= 97:
                    style["fg"] = BASE16[c - 90 + 8]
                elif 100 <= c <= 107:
                    style["bg"] = BASE16[c - 100 + 8]
                i += 1
        rows.append(cells)
    return rows


def render(ansi: str, out: Path, crop: tuple[int, int] | None = None) -> None:
    size = 17
    font, bold = ImageFont.truetype(FONT, size), ImageFont.truetype(FONT_BOLD, size)
    cw = round(font.getlength("M"))
    ch = round(size * 1.35)
    rows = parse(ansi)
    if crop:
        rows = rows[crop[0] : crop[1]]
    pad = 18
    img = Image.new("RGB", (COLS * cw + 2 * pad, len(rows) * ch + 2 * pad), DEFAULT_BG)
    draw = ImageDraw.Draw(img)
    for y, cells in enumerate(rows):
        for x, (char, st) in enumerate(cells[:COLS]):
            fg, bg = st["fg"] or DEFAULT_FG, st["bg"] or DEFAULT_BG
            if st["reverse"]:
                fg, bg = bg, fg
            left, top = pad + x * cw, pad + y * ch
            if bg != DEFAULT_BG:
                draw.rectangle([left, top, left + cw - 1, top + ch - 1], fill=bg)
            if char.strip():
                if char in "─│╭╮╰╯":  # box drawing: draw lines so borders join up
                    mid_x, mid_y = left + cw // 2, top + ch // 2
                    if char in "─╭╰╮╯":
                        x0 = mid_x if char in "╭╰" else left
                        x1 = mid_x if char in "╮╯" else left + cw
                        draw.line([x0, mid_y, x1, mid_y], fill=fg, width=1)
                    if char in "│╭╮╰╯":
                        y0 = mid_y if char in "╭╮" else top
                        y1 = mid_y if char in "╰╯" else top + ch
                        draw.line([mid_x, y0, mid_x, y1], fill=fg, width=1)
                else:
                    draw.text((left, top + (ch - size) // 2 - 1), char, font=bold if st["bold"] else font, fill=fg)
    img.save(out)
    print(f"wrote {out} ({img.width}x{img.height})")


def tmux(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, timeout=20, **kw)


def capture() -> str:
    return tmux("capture-pane", "-e", "-p").stdout


def wait_for(text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plain = tmux("capture-pane", "-p").stdout
        if text in plain:
            time.sleep(0.3)  # let the rest of the frame land
            return capture()
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {text!r}:\n{tmux('capture-pane', '-p').stdout}")


def main() -> None:
    demo = subprocess.run([SERVER, "demo", "--keep"], capture_output=True, text=True, timeout=300).stdout
    data = re.search(r"data kept in (\S+?)\)", demo).group(1)
    work = Path(tempfile.mkdtemp(prefix="usage-ls-shot-")) / "widget"
    work.mkdir()
    (work / "ai.lua").write_text(SAMPLE, encoding="utf-8")
    init = work.parent / "init.lua"
    init.write_text(INIT % {"plugin": str(ROOT / "editor-clients" / "nvim"), "server": str(SERVER)}, encoding="utf-8")
    env = {
        **os.environ,
        "USAGE_LS_DATA_DIR": data,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "HOME": str(work.parent),
    }
    tmux(
        "new-session",
        "-d",
        "-x",
        str(COLS),
        "-y",
        str(ROWS),
        "-c",
        str(work),
        f"{NVIM} -u {init} -i NONE -n ai.lua",
        env=env,
    )
    try:
        tmux("set", "-g", "default-terminal", "tmux-256color")
        wait_for(" cr ")
        tmux("send-keys", "3G", 'f"', "l")  # cursor on claude-sonnet-4-5
        tmux("send-keys", "K")
        shot = wait_for("Cache read")
        render(shot, ROOT / "docs" / "neovim-statusline.png")
        tmux("send-keys", "Escape", "Escape")
        time.sleep(0.5)
        tmux("send-keys", ":UsageModels", "Enter")
        shot = wait_for("acme-coder-v2")
        render(shot, ROOT / "docs" / "neovim-float.png")
    finally:
        tmux("kill-server")


if __name__ == "__main__":
    main()
