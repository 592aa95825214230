// The status bar credit counter: the server's `usage/statusBar` text and tooltip, refreshed
// only when the server pushes `usage/didChange` (never polled).

import * as vscode from "vscode";
import type { Billing, StatusBarResult, UsageChange } from "./protocol";
import { errorMessage, type SessionState, type UsageSession } from "./session";

export class UsageStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private sequence = 0; // drops answers that arrive after a newer one was asked for

  constructor(private readonly session: UsageSession) {
    this.item = vscode.window.createStatusBarItem("usage-ls.credits", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "AI Usage";
    this.showState(session.state);
    this.item.show();
    this.disposables.push(
      this.item,
      session.onDidChangeState((state) => this.showState(state)),
      session.onDidChange((change) => this.onChange(change)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("usage-ls.statusBar.billing")) {
          void this.refresh();
        }
      }),
    );
  }

  private billing(): Billing | "auto" {
    const chosen = vscode.workspace.getConfiguration("usage-ls").get<string>("statusBar.billing", "auto");
    return chosen === "byok" || chosen === "premium" ? chosen : "auto";
  }

  private onChange(change: UsageChange): void {
    // the pushed status is the server's "auto" one; a chosen billing asks for its own
    if (this.billing() === "auto" && change.statusBar) {
      this.sequence++;
      this.render(change.statusBar);
    } else {
      void this.refresh();
    }
  }

  async refresh(): Promise<void> {
    if (this.session.state !== "running") {
      return;
    }
    const mine = ++this.sequence;
    try {
      const result = await this.session.request<StatusBarResult>("usage/statusBar", { billing: this.billing() });
      if (mine === this.sequence) {
        this.render(result);
      }
    } catch (err) {
      if (mine === this.sequence) {
        this.session.log.warn(`usage/statusBar: ${errorMessage(err)}`);
      }
    }
  }

  private render(status: StatusBarResult): void {
    this.item.text = `$(pulse) ${status.text}`;
    const tooltip = new vscode.MarkdownString(status.tooltip);
    tooltip.isTrusted = false;
    tooltip.supportHtml = false;
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      status.level === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : status.level === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    const amount =
      status.billing === "byok" || this.billing() === "byok"
        ? status.costUsd === null
          ? "unpriced usage on your own keys"
          : `$${status.costUsd.toFixed(2)} on your own keys`
        : `${status.credits} premium credits`;
    this.item.accessibilityInformation = { label: `AI usage today: ${amount}`, role: "button" };
    this.item.command = { title: "Open Usage Dashboard", command: "usage-ls.openDashboard" };
  }

  private showState(state: SessionState): void {
    switch (state) {
      case "running":
        void this.refresh();
        return;
      case "starting":
        this.item.text = "$(pulse) …";
        this.item.tooltip = "AI Usage: starting the usage-ls server";
        this.item.backgroundColor = undefined;
        this.item.command = undefined;
        return;
      case "missing":
        this.item.text = "$(pulse) usage-ls?";
        this.item.tooltip = `AI Usage: ${this.session.problem} Click for how to install it.`;
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        this.item.command = { title: "How to Install", command: "usage-ls.showInstallHelp" };
        return;
      case "failed":
        this.item.text = "$(pulse) usage-ls stopped";
        this.item.tooltip = `AI Usage: ${this.session.problem}. Click to restart.`;
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
        this.item.command = { title: "Restart", command: "usage-ls.restartServer" };
        return;
      case "stopped":
        return;
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
