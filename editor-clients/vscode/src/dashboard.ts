// The Usage Dashboard: one webview panel showing the page the server renders
// (`usage/dashboard`). The page asks for data with postMessage; we forward each request to the
// language server and post the answer back, and tell the page when the ledger changed.

import { randomBytes } from "crypto";
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

export class DashboardPanel implements vscode.Disposable {
  private static current: DashboardPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private showsError = false;

  /** Opens the dashboard, or brings the open one to the front. */
  static show(session: UsageSession): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal();
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      "Usage Dashboard",
      vscode.ViewColumn.Active,
      DashboardPanel.options(),
    );
    DashboardPanel.current = new DashboardPanel(panel, session);
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
      const result = await this.session.request<{ html: string }>("usage/dashboard", { nonce });
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
