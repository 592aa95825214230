// The usage-ls protocol as this extension sees it (docs/protocol.md is the contract).

export type Billing = "premium" | "byok";
export type Level = "normal" | "warning" | "error";

/** `usage/statusBar` result; also the `statusBar` of `usage/didChange` (Premium mode). */
export interface StatusBarResult {
  text: string;
  /** Markdown; user strings in it are already escaped by the server. */
  tooltip: string;
  level: Level;
  credits: number;
  /** null when nothing of today's BYOK usage has a price */
  costUsd: number | null;
  billing?: Billing;
}

export interface Totals {
  credits: number | null;
  costUsd: number | null;
  messages: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  totalTokens: number;
  unpricedMessages?: number;
}

export interface ModelSplit extends Totals {
  model: string;
}

export interface TokenSplitResult {
  models: ModelSplit[];
}

/** One AI interaction, as `usage/record` takes it. */
export interface UsageRecord {
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  cacheWrite1hTokens?: number;
  /** The dedupe key: re-sending the same id never counts twice. */
  id?: string;
  /** RFC 3339 or epoch milliseconds; default now. */
  timestamp?: string | number;
  provider?: string;
  billing?: Billing;
  project?: string;
  user?: string;
  costUsd?: number;
  credits?: number;
  feature?: string;
  session?: string;
}

export interface RecordResult {
  accepted: number;
  duplicates: number;
  durable?: boolean;
  rejected: { index: number; field: string; message: string }[];
  ignoredFields?: Record<string, number>;
}

/** `usage/didChange` params: pushed after stored records change, by any process. */
export interface UsageChange {
  today: Totals;
  statusBar: StatusBarResult;
  limits?: LimitsResult;
}

/** `usage/limits`: plan windows (5-hour, weekly) as the tools reported them, or estimated. */
export interface LimitWindow {
  source: string;
  window: string;
  label: string;
  limitId: string | null;
  usedPercent: number | null; // null: an estimated window without the plan's block_tokens
  resetsAt: number | null;
  resetsAtLocal: string | null;
  observedAt: number;
  elapsedPercent: number | null;
  projectedPercent: number | null;
  estimated: boolean;
  level: "normal" | "warning" | "error";
}

/** One `[plans]` entry of config.toml: its month, value at list price and AI Credits. */
export interface PlanInfo {
  tool: string;
  plan: string;
  label: string;
  monthlyPriceUsd: number | null;
  periodStart: string;
  periodEnd: string;
  listPriceUsd: number;
  valueRatio: number | null;
  credits: {
    allowance: number;
    base: number;
    flex: number;
    used: number;
    remaining: number;
    resetsAt: string;
  } | null;
}

export interface LimitsResult {
  windows: LimitWindow[];
  plans: PlanInfo[];
}

/** What the dashboard page may ask the server for, through the webview's postMessage. */
export const DASHBOARD_METHODS: ReadonlySet<string> = new Set([
  "usage/summary",
  "usage/tokenSplit",
  "usage/projects",
  "usage/users",
  "usage/daily",
  "usage/interactions",
  "usage/sessions",
  "usage/insights",
  "usage/limitHistory",
  "usage/limits",
  "usage/attribution",
  "usage/tools",
]);
