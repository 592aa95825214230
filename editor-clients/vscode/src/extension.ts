// usage-ls for VS Code: starts the usage-ls language server and shows what it answers — the
// status bar credit counter, hovers on model names, the Usage Dashboard — and lets other
// extensions record AI usage through our exported API or the usage-ls.recordUsage command.

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { createApi, recordsFromArgument, recordUsage, type UsageLedgerApi } from "./api";
import { openConfig, restartOnConfigSave } from "./configFile";
import { DASHBOARD_VIEW_TYPE, DashboardPanel } from "./dashboard";
import { UsageSession } from "./session";
import { UsageStatusBar } from "./statusBar";
import { showTokenSplit } from "./tokenSplit";

let session: UsageSession | undefined;

export function activate(context: vscode.ExtensionContext): UsageLedgerApi {
  const log = vscode.window.createOutputChannel("usage-ls", { log: true });
  session = new UsageSession(log);
  const s = session;
  const statusBar = new UsageStatusBar(s);

  context.subscriptions.push(
    log,
    s,
    statusBar,
    // an optional filter: the server's code action "Open Usage Dashboard filtered to this model"
    vscode.commands.registerCommand("usage-ls.openDashboard", (filter?: unknown) => {
      DashboardPanel.show(s, dashboardFilter(filter));
    }),
    // the server's own commands (its code actions use showModel), run by the server
    ...["usage-ls.showToday", "usage-ls.showModel", "usage-ls.record"].map((command) =>
      vscode.commands.registerCommand(command, (...args: unknown[]) =>
        s.request("workspace/executeCommand", { command, arguments: args }),
      ),
    ),
    vscode.commands.registerCommand("usage-ls.showTokenSplit", () => showTokenSplit(s)),
    vscode.commands.registerCommand("usage-ls.restartServer", async () => {
      const client = await s.restart();
      if (client) {
        void vscode.window.setStatusBarMessage("$(pulse) usage-ls server restarted", 3000);
      }
    }),
    vscode.commands.registerCommand("usage-ls.recordUsage", (arg: unknown) => recordUsage(s, recordsFromArgument(arg))),
    vscode.commands.registerCommand("usage-ls.openConfig", () => openConfig(s)),
    vscode.commands.registerCommand("usage-ls.showInstallHelp", () => showInstallHelp(context)),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        DashboardPanel.revive(panel, s);
      },
    }),
    restartOnConfigSave(s),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (
        e.affectsConfiguration("usage-ls.server") ||
        e.affectsConfiguration("usage-ls.dataDir") ||
        e.affectsConfiguration("usage-ls.project") ||
        e.affectsConfiguration("usage-ls.user")
      ) {
        void s.restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      if (s.state === "missing") {
        void s.restart(); // the workspace's own .venv may be used now
      }
    }),
  );

  void s.start();
  return createApi(s);
}

/** The filter keys the dashboard takes from a command argument; anything else is dropped. */
function dashboardFilter(arg: unknown): Record<string, string> | undefined {
  if (!arg || typeof arg !== "object" || Array.isArray(arg)) {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const key of ["from", "to", "project", "user", "model", "billing"]) {
    const value = (arg as Record<string, unknown>)[key];
    if (typeof value === "string" && value) {
      out[key] = value;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

export async function deactivate(): Promise<void> {
  await session?.stop();
}

async function showInstallHelp(context: vscode.ExtensionContext): Promise<void> {
  // vsce stores the README as readme.md; a development checkout has README.md
  const name = ["README.md", "readme.md"].find((n) => fs.existsSync(path.join(context.extensionPath, n))) ?? "README.md";
  const readme = vscode.Uri.joinPath(context.extensionUri, name);
  try {
    await vscode.commands.executeCommand("markdown.showPreview", readme);
  } catch {
    await vscode.window.showTextDocument(readme);
  }
}
