// "Usage: Show Today's Token Split": a quick pick with one row per model used today.

import * as vscode from "vscode";
import type { ModelSplit, TokenSplitResult } from "./protocol";
import { errorMessage, type UsageSession } from "./session";

const integer = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

export async function showTokenSplit(session: UsageSession): Promise<void> {
  let split: TokenSplitResult;
  try {
    split = await session.request<TokenSplitResult>("usage/tokenSplit", {});
  } catch (err) {
    void vscode.window.showErrorMessage(`AI Usage: the token split is not available: ${errorMessage(err)}`);
    return;
  }
  const models = split?.models ?? [];
  if (models.length === 0) {
    void vscode.window.showInformationMessage("AI Usage: no AI usage recorded today.");
    return;
  }
  const total = models.reduce((sum, m) => sum + m.totalTokens, 0);
  const items: vscode.QuickPickItem[] = models.map((m) => ({
    label: m.model,
    description: `${compact.format(m.totalTokens)} tokens · ${formatCredits(m)} · ${formatCost(m)}`,
    detail:
      `input ${integer.format(m.inputTokens)} · output ${integer.format(m.outputTokens)} · ` +
      `cache read ${integer.format(m.cacheReadTokens)} · cache write ${integer.format(m.cacheWriteTokens)} · ` +
      `${integer.format(m.messages)} message${m.messages === 1 ? "" : "s"}`,
  }));
  const dashboard: vscode.QuickPickItem = { label: "$(graph) Open Usage Dashboard", alwaysShow: true };
  const picked = await vscode.window.showQuickPick([...items, { label: "", kind: vscode.QuickPickItemKind.Separator }, dashboard], {
    title: `Today's token split: ${integer.format(total)} tokens across ${models.length} model${models.length === 1 ? "" : "s"}`,
    placeHolder: "Tokens by model today (input, output, cache read, cache write)",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (picked === dashboard) {
    void vscode.commands.executeCommand("usage-ls.openDashboard");
  }
}

function formatCredits(m: ModelSplit): string {
  if (m.credits === null || m.credits === undefined) {
    return "unpriced";
  }
  return `${m.credits >= 100 ? m.credits.toFixed(0) : m.credits.toFixed(1)} cr`;
}

function formatCost(m: ModelSplit): string {
  if (m.costUsd === null || m.costUsd === undefined) {
    return "unpriced";
  }
  return m.costUsd > 0 && m.costUsd < 0.01 ? `$${m.costUsd.toFixed(4)}` : `$${m.costUsd.toFixed(2)}`;
}
