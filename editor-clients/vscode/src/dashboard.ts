// The Usage Dashboard: one webview panel showing the page the server renders
// (`usage/dashboard`). The page asks for data with postMessage; we forward each request to the
// language server and post the answer back, and tell the page when the ledger changed. Its
// "Export CSV" hands us the CSV (a webview cannot download): we save it where the user says.

import { randomBytes } from "crypto";
import * as os from "os";
import * as vscode from "vscode";
import { DASHBOARD_METHODS } from "./protocol";
import { errorMessage, type UsageSession } from "./session";

export const DASHBOARD_VIEW_TYPE = "usage-ls.dashboard";

interface PageRequest {
  type: "usage-request";
  id: string | number;
  method: string;
  params?: unknown;
}

/** "Export CSV": the page's suggested file name and the whole CSV (UTF-8 text with a BOM). */
interface PageExport {
  type: "usage-export";
  format: "csv";
  filename: string;
  content: string;
}

/** The largest CSV we take from the page, in characters (~500,000 rows). */
const MAX_EXPORT_CHARS = 100 * 1024 * 1024;
const MAX_NAME_CHARS = 120;

/** Where the last export went in this window, so the next one starts there. */
let lastExportFolder: vscode.Uri | undefined;

export class DashboardPanel implements vscode.Disposable {
  private static current: DashboardPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private showsError = false;
  private exporting = false;

  /** Opens the dashboard, or brings the open one to the front. */
  static show(session: UsageSession, filter?: Record<string, string>): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal();
      if (filter) {
        DashboardPanel.current.filter = filter;
        void DashboardPanel.current.render();
      }
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      "Usage Dashboard",
      vscode.ViewColumn.Active,
      DashboardPanel.options(),
    );
    DashboardPanel.current = new DashboardPanel(panel, session, filter);
    return DashboardPanel.current;
  }

  /** After a window reload VS Code hands back the panel it kept; fill it again. */
  static revive(panel: vscode.WebviewPanel, session: UsageSession): void {
    DashboardPanel.current?.dispose();
    panel.webview.options = DashboardPanel.options();
    DashboardPanel.current = new DashboardPanel(panel, session);
  }

  private static options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    // the page is self-contained (inline nonce'd scripts and styles): no local files at all;
    // it keeps its filters and charts while hidden
    return { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: true, enableFindWidget: true };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly session: UsageSession,
    private filter: Record<string, string> = {},
  ) {
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message) => this.onMessage(message)),
      session.onDidChange(() => {
        if (this.showsError) {
          void this.render();
        } else {
          void panel.webview.postMessage({ type: "usage-changed" });
        }
      }),
      session.onDidChangeState((state) => {
        if (state === "running" && this.showsError) {
          void this.render();
        }
      }),
      panel.onDidChangeViewState(() => {
        if (panel.visible && this.showsError) {
          void this.render();
        }
      }),
    );
    void this.render();
  }

  async render(): Promise<void> {
    const nonce = randomBytes(18).toString("base64");
    try {
      const result = await this.session.request<{ html: string }>("usage/dashboard", { ...this.filter, nonce });
      if (typeof result?.html !== "string") {
        throw new Error("the server answered usage/dashboard without a page");
      }
      this.showsError = false;
      this.panel.webview.html = result.html;
    } catch (err) {
      this.showsError = true;
      this.panel.webview.html = errorPage(errorMessage(err), nonce);
    }
  }

  private async onMessage(message: unknown): Promise<void> {
    if (isPageExport(message)) {
      return this.saveExport(message);
    }
    if (!isPageRequest(message)) {
      return;
    }
    const { id, method } = message;
    if (!DASHBOARD_METHODS.has(method)) {
      void this.panel.webview.postMessage({ type: "usage-response", id, error: { message: `${method} is not available to the dashboard` } });
      return;
    }
    try {
      const result = await this.session.request(method, message.params ?? {});
      void this.panel.webview.postMessage({ type: "usage-response", id, result });
    } catch (err) {
      void this.panel.webview.postMessage({ type: "usage-response", id, error: { message: errorMessage(err) } });
    }
  }

  /** Asks where to save the page's CSV (nothing happens if the user cancels), writes it, says where. */
  private async saveExport(message: PageExport): Promise<void> {
    if (this.exporting) {
      return; // a save dialog for the last click is still open
    }
    if (message.content.length > MAX_EXPORT_CHARS) {
      const mb = (n: number) => Math.round(n / (1024 * 1024));
      void vscode.window.showErrorMessage(
        `usage-ls: the CSV is too large to save from the dashboard (${mb(message.content.length)} MB; at most ${mb(MAX_EXPORT_CHARS)} MB). Narrow the dates or filters and export again.`,
      );
      return;
    }
    this.exporting = true;
    try {
      const name = exportFileName(message.filename);
      const uri = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.joinPath(exportFolder(), name),
        filters: { "CSV files": ["csv"] },
        saveLabel: "Save CSV",
        title: "Save the Usage Dashboard's rows as CSV",
      });
      if (!uri) {
        return;
      }
      const where = uri.scheme === "file" ? uri.fsPath : uri.toString(true);
      try {
        await vscode.workspace.fs.writeFile(uri, Buffer.from(message.content, "utf8"));
      } catch (err) {
        this.session.log.error(`CSV export to ${where} failed: ${errorMessage(err)}`);
        void vscode.window.showErrorMessage(`usage-ls: could not save the CSV to ${where}: ${errorMessage(err)}`);
        return;
      }
      lastExportFolder = vscode.Uri.joinPath(uri, "..");
      this.session.log.info(`CSV export saved to ${where} (${message.content.length} characters)`);
      void vscode.window.showInformationMessage(`Usage CSV saved to ${where}`, "Open").then((choice) => {
        if (choice === "Open") {
          void vscode.commands.executeCommand("vscode.open", uri);
        }
      });
    } finally {
      this.exporting = false;
    }
  }

  dispose(): void {
    if (DashboardPanel.current === this) {
      DashboardPanel.current = undefined;
    }
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
    this.panel.dispose();
  }
}

function isPageRequest(message: unknown): message is PageRequest {
  if (!message || typeof message !== "object") {
    return false;
  }
  const m = message as Partial<PageRequest>;
  return m.type === "usage-request" && (typeof m.id === "string" || typeof m.id === "number") && typeof m.method === "string";
}

function isPageExport(message: unknown): message is PageExport {
  if (!message || typeof message !== "object") {
    return false;
  }
  const m = message as Partial<PageExport>;
  return m.type === "usage-export" && m.format === "csv" && typeof m.filename === "string" && typeof m.content === "string";
}

/** The page's suggestion as a plain file name: no folders, only letters, digits, `.`, `_`, `-`;
 * always ending in .csv (`usage-2025-06-01_2025-06-07-premium.csv` stays as it is). */
function exportFileName(suggested: string): string {
  const base = suggested.slice(0, 1000).split(/[\\/]/).pop() ?? "";
  const stem = base
    .replace(/\.csv$/i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._-]+/, "")
    .slice(0, MAX_NAME_CHARS)
    .replace(/[._-]+$/, "");
  return (stem || "usage") + ".csv";
}

/** The folder the save dialog opens in: the last export's, else the first workspace folder, else home. */
function exportFolder(): vscode.Uri {
  return lastExportFolder ?? vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
}

/** Shown instead of the dashboard when the server cannot give one; it tries again on its own. */
function errorPage(message: string, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 2em; }
.problem { color: var(--vscode-errorForeground); }
</style></head>
<body><h2>Usage Dashboard</h2>
<p class="problem">The dashboard could not be loaded: ${escapeHtml(message)}</p>
<p>It loads again by itself when the server's data changes or the server restarts
(command <em>Usage: Restart Server</em>).</p>
</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}
