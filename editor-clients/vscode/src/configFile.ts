// Budgets, credit rules and prices belong to the server's config.toml in the data directory
// (shared by every editor and script on it), not to VS Code settings. "Usage: Open
// Configuration" opens that file (from the server's own example when absent); saving it
// restarts the server so the new budgets apply at once.

import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import { findServer } from "./serverCommand";
import { errorMessage, type UsageSession } from "./session";

export async function openConfig(session: UsageSession): Promise<void> {
  const lookup = await findServer(session.log);
  if (!lookup.found) {
    session.offerInstallHelp(true);
    return;
  }
  const { command, args } = lookup.found;
  const configArgs = args.includes("serve") ? args.map((a) => (a === "serve" ? "config" : a)) : [...args, "config"];
  const env = { ...process.env };
  const dataDir = vscode.workspace.getConfiguration("usage-ls").get<string>("dataDir", "").trim();
  if (dataDir) {
    env.USAGE_LS_DATA_DIR = dataDir.replace(/^~(?=$|[\\/])/, os.homedir());
  }
  let output: string;
  try {
    output = await new Promise<string>((resolve, reject) =>
      execFile(command, configArgs, { env, timeout: 20_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
  } catch (err) {
    void vscode.window.showErrorMessage(`AI Usage: "${command} config" failed: ${errorMessage(err)}`);
    return;
  }
  const file = /^config file:\s*(.+?)(?:\s+\((?:absent|present)[^)]*\))?\s*$/m.exec(output)?.[1];
  if (!file) {
    void vscode.window.showErrorMessage(`AI Usage: "${command} config" did not say where config.toml is.`);
    return;
  }
  if (!fs.existsSync(file)) {
    const example = output.split(/^Example config\.toml:\s*$/m)[1]?.replace(/^\n+/, "") ?? "";
    await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.promises.writeFile(file, example, { mode: 0o600 });
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}

/** Restart the server when its config.toml is saved from this window. */
export function restartOnConfigSave(session: UsageSession): vscode.Disposable {
  return vscode.workspace.onDidSaveTextDocument((doc) => {
    if (path.basename(doc.uri.fsPath) !== "config.toml" || doc.uri.scheme !== "file") {
      return;
    }
    const dir = path.dirname(doc.uri.fsPath);
    const configured = vscode.workspace.getConfiguration("usage-ls").get<string>("dataDir", "").trim();
    const likely =
      (configured && path.resolve(configured.replace(/^~(?=$|[\\/])/, os.homedir())) === dir) ||
      (process.env.USAGE_LS_DATA_DIR && path.resolve(process.env.USAGE_LS_DATA_DIR) === dir) ||
      path.basename(dir) === "usage-ls";
    if (likely && session.state === "running") {
      session.log.info(`${doc.uri.fsPath} saved: restarting the server to apply it`);
      void session.restart();
    }
  });
}
