// Finding `usage-ls` without configuration: the setting, then the active Python environment,
// then PATH, then the places pip, pipx, uv and Homebrew put scripts. Editors often start with
// a PATH that lacks the user's shell additions (code-server takes the login shell's), so the
// usual places are searched too.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";

export interface ServerCommand {
  command: string;
  args: string[];
  /** How it was found, for the log: "setting", "Python environment", "PATH", ... */
  source: string;
}

export interface Lookup {
  found?: ServerCommand;
  /** Where we looked, for the "not found" message and the log. */
  searched: string[];
  /** Set when the user's setting names something that does not exist. */
  settingProblem?: string;
}

const isWindows = process.platform === "win32";
const EXE_NAMES = isWindows ? ["usage-ls.exe", "usage-ls.cmd", "usage-ls"] : ["usage-ls"];

export async function findServer(log: vscode.LogOutputChannel): Promise<Lookup> {
  const cfg = vscode.workspace.getConfiguration("usage-ls");
  const args = cfg.get<string[]>("server.args", ["serve"]).filter((a) => typeof a === "string");
  const searched: string[] = [];

  const configured = (cfg.get<string>("server.command", "") ?? "").trim();
  if (configured) {
    const expanded = expand(configured);
    if (hasSeparator(expanded)) {
      if (await isExecutable(expanded)) {
        return { found: { command: expanded, args, source: "setting usage-ls.server.command" }, searched };
      }
      return { searched, settingProblem: `usage-ls.server.command is "${configured}", which is not an executable file` };
    }
    // a bare name ("usage-ls", "python3"): resolve it on PATH and in the usual places
    const onPath = await firstExecutable([...candidatesOnPath([expanded]), ...usualPlaces([expanded])]);
    if (onPath) {
      return { found: { command: onPath, args, source: "setting usage-ls.server.command (on PATH)" }, searched };
    }
    return { searched, settingProblem: `usage-ls.server.command is "${configured}", which is not on PATH` };
  }

  const steps: [string, () => Promise<string[]>][] = [
    ["the active Python environment", pythonEnvironmentCandidates],
    ["PATH", async () => candidatesOnPath(EXE_NAMES)],
    ["$VIRTUAL_ENV / $CONDA_PREFIX", async () => envPrefixCandidates()],
    ["the workspace's .venv", async () => workspaceCandidates()],
    ["~/.local/bin, pipx, /usr/local/bin, Homebrew", async () => usualPlaces()],
  ];
  for (const [source, candidates] of steps) {
    searched.push(source);
    let paths: string[] = [];
    try {
      paths = await candidates();
    } catch (err) {
      log.warn(`looking for usage-ls in ${source}: ${String(err)}`);
    }
    const hit = await firstExecutable(paths);
    if (hit) {
      return { found: { command: hit, args, source }, searched };
    }
  }
  return { searched };
}

/** `usage-ls` next to the interpreter the Python extension has selected, if it is installed. */
async function pythonEnvironmentCandidates(): Promise<string[]> {
  const ext = vscode.extensions.getExtension("ms-python.python");
  if (!ext) {
    return [];
  }
  // never let a slow or broken Python extension hold up the status bar for long
  const api: any = ext.isActive ? ext.exports : await withTimeout(Promise.resolve(ext.activate()), 10_000);
  const envs = api?.environments;
  if (!envs?.getActiveEnvironmentPath) {
    return [];
  }
  const resource = vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const active = envs.getActiveEnvironmentPath(resource);
  const resolved = await withTimeout(Promise.resolve(envs.resolveEnvironment?.(active)), 10_000);
  const executable: string | undefined = resolved?.executable?.uri?.fsPath ?? active?.path;
  if (!executable) {
    return [];
  }
  const dir = path.dirname(executable);
  const dirs = [dir, path.join(dir, "Scripts"), path.join(dir, "bin")];
  const prefix: string | undefined = resolved?.environment?.folderUri?.fsPath ?? resolved?.executable?.sysPrefix;
  if (prefix) {
    dirs.push(path.join(prefix, isWindows ? "Scripts" : "bin"));
  }
  return inDirs(dirs);
}

function candidatesOnPath(names: string[]): string[] {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const out: string[] = [];
  for (const dir of dirs) {
    for (const name of names) {
      out.push(path.join(dir, name));
    }
  }
  return out;
}

function envPrefixCandidates(): string[] {
  const prefixes = [process.env.VIRTUAL_ENV, process.env.CONDA_PREFIX].filter((p): p is string => !!p);
  return inDirs(prefixes.map((p) => path.join(p, isWindows ? "Scripts" : "bin")));
}

function workspaceCandidates(): string[] {
  // running an executable that sits in the workspace is only safe when the user trusts it
  if (!vscode.workspace.isTrusted) {
    return [];
  }
  const dirs: string[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== "file") {
      continue;
    }
    for (const venv of [".venv", "venv", "env"]) {
      dirs.push(path.join(folder.uri.fsPath, venv, isWindows ? "Scripts" : "bin"));
    }
  }
  return inDirs(dirs);
}

function usualPlaces(names: string[] = EXE_NAMES): string[] {
  const home = os.homedir();
  const dirs = [
    process.env.PIPX_BIN_DIR,
    process.env.UV_TOOL_BIN_DIR,
    process.env.XDG_BIN_HOME,
    path.join(home, ".local", "bin"), // pip --user, pipx, uv tool
    path.join(home, ".local", "pipx", "venvs", "usage-ls", isWindows ? "Scripts" : "bin"),
    path.join(home, ".local", "share", "pipx", "venvs", "usage-ls", "bin"),
    path.join(home, ".local", "share", "uv", "tools", "usage-ls", "bin"),
  ].filter((d): d is string => !!d);
  if (isWindows) {
    const appData = process.env.APPDATA;
    const localAppData = process.env.LOCALAPPDATA;
    for (const base of [appData && path.join(appData, "Python"), localAppData && path.join(localAppData, "Programs", "Python")]) {
      if (base) {
        for (const sub of safeReaddir(base)) {
          dirs.push(path.join(base, sub, "Scripts"));
        }
      }
    }
  } else {
    dirs.push("/usr/local/bin", "/opt/homebrew/bin", "/usr/bin");
    const macUser = path.join(home, "Library", "Python");
    for (const sub of safeReaddir(macUser)) {
      dirs.push(path.join(macUser, sub, "bin"));
    }
  }
  return inDirs(dirs, names);
}

function inDirs(dirs: string[], names: string[] = EXE_NAMES): string[] {
  return dirs.flatMap((d) => names.map((n) => path.join(d, n)));
}

async function firstExecutable(paths: string[]): Promise<string | undefined> {
  const seen = new Set<string>();
  for (const p of paths) {
    if (seen.has(p)) {
      continue;
    }
    seen.add(p);
    if (await isExecutable(p)) {
      return p;
    }
  }
  return undefined;
}

async function isExecutable(p: string): Promise<boolean> {
  try {
    const st = await fs.promises.stat(p);
    if (!st.isFile()) {
      return false;
    }
    if (!isWindows) {
      await fs.promises.access(p, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function expand(p: string): string {
  let out = p.replace(/^~(?=$|[\\/])/, os.homedir()).replace(/\$\{userHome\}/g, os.homedir());
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder);
  }
  return out;
}

function hasSeparator(p: string): boolean {
  return p.includes("/") || (isWindows && p.includes("\\"));
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
