// What other extensions get: `recordUsage` and `onDidChangeUsage` from our `activate`, and the
// `usage-ls.recordUsage` command for those that want no dependency on us at all.

import * as vscode from "vscode";
import { defaultProject, defaultUser } from "./defaults";
import type { RecordResult, UsageChange, UsageRecord } from "./protocol";
import type { UsageSession } from "./session";

export interface UsageLedgerApi {
  /** Records one interaction or many; resolves once they are durably stored. */
  recordUsage(records: UsageRecord | UsageRecord[]): Promise<RecordResult>;
  /** Fires after the ledger changed (from this window, another one, or a script). */
  readonly onDidChangeUsage: vscode.Event<UsageChange>;
}

export function createApi(session: UsageSession): UsageLedgerApi {
  return {
    recordUsage: (records) => recordUsage(session, records),
    onDidChangeUsage: session.onDidChange,
  };
}

/** The command's argument: a record, an array of records, or `{records: [...]}`. */
export function recordsFromArgument(arg: unknown): UsageRecord | UsageRecord[] {
  if (arg && typeof arg === "object" && !Array.isArray(arg) && Array.isArray((arg as { records?: unknown }).records)) {
    return (arg as { records: UsageRecord[] }).records;
  }
  return arg as UsageRecord | UsageRecord[];
}

export async function recordUsage(session: UsageSession, records: UsageRecord | UsageRecord[]): Promise<RecordResult> {
  if (records === null || records === undefined || typeof records !== "object") {
    throw new TypeError("recordUsage: expected a usage record or an array of records, e.g. {model, inputTokens, outputTokens}");
  }
  const list = (Array.isArray(records) ? records : [records]).map(withDefaults);
  const result = await session.request<RecordResult>("usage/record", { records: list });
  for (const r of result.rejected ?? []) {
    session.log.warn(`recordUsage: record ${r.index} rejected: ${r.field}: ${r.message}`);
  }
  return result;
}

function withDefaults(record: UsageRecord): UsageRecord {
  if (!record || typeof record !== "object" || Array.isArray(record)) {
    return record; // the server names what is wrong with it
  }
  const out: UsageRecord = { ...record };
  if (out.project === undefined || out.project === null || out.project === "") {
    const project = defaultProject();
    if (project) {
      out.project = project;
    }
  }
  if (out.user === undefined || out.user === null || out.user === "") {
    const user = defaultUser();
    if (user) {
      out.user = user;
    }
  }
  return out;
}
