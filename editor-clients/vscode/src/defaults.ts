// Who and what a record is about when its sender does not say: the settings, else the
// workspace folder of the file being edited (else the first folder). The user falls back to
// the server's own default (config.toml's `user`, else the login name).

import * as vscode from "vscode";

export function defaultProject(): string | undefined {
  const configured = vscode.workspace.getConfiguration("usage-ls").get<string>("project", "").trim();
  if (configured) {
    return configured;
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) || vscode.workspace.workspaceFolders?.[0];
  return folder?.name || undefined;
}

export function defaultUser(): string | undefined {
  return vscode.workspace.getConfiguration("usage-ls").get<string>("user", "").trim() || undefined;
}
