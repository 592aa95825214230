"""GitHub Copilot: the usage report CSV GitHub's billing pages export (premium requests and
AI Credits, per user, model and day).

Format read
    A CSV file, columns found by header name (`exports.py`). The usage report
    (docs.github.com, "Billing reports reference"): `date` (a UTC day), `product`, `sku`,
    `quantity`, `unit_type`, `applied_cost_per_quantity`, `gross_amount`, `discount_amount`,
    `net_amount`, `username`, `organization`, `repository`, `workflow_path`,
    `cost_center_name`; the premium-request report adds `model`, `exceeds_quota`,
    `total_monthly_quota`; the AI-credit report (from June 2026) `aic_quantity`,
    `aic_gross_amount` (not in the published reference: UNCERTAIN) and token columns `input`,
    `output`, `cache_read`, `cache_write`. The older premium-request analytics export
    (`Timestamp, User, Model, Requests Used, Exceeds Monthly Quota, Total Monthly Quota`, one
    row per use) is read too. Required: a date and a quantity. Files: the paths given, else
    `$USAGE_LS_COPILOT_REPORT` (files or folders, comma-separated), else the CSVs in
    `~/Downloads` with those columns and a user or model column.

Mapping
    One record per row; rows of other products (Actions minutes, storage...) are skipped:
    a row counts when its product or SKU names Copilot, premium requests or AI credits.
    costUsd = `gross_amount` (the usage at list price, before the plan's included quota is
    discounted), else quantity x `applied_cost_per_quantity`, else for premium requests
    quantity x $0.04 (GitHub's published price of a premium request); credits = AI Credits
    (`aic_quantity`, or `quantity` of an `*_ai_credit` SKU), else left to the credit rules;
    tokens from the token columns when present (else 0: premium requests are counted in
    requests, not tokens). billing `premium` (this is plan usage); user = `username`;
    model = `model` (else the SKU); project = the last part of `repository` when set; feature
    `copilot-report`; timestamp noon UTC of the row's day (or the row's own time).

Per request or cumulative, and duplicates
    A row is a per-day *sum* (per date, user, model, SKU, organization, repository, cost
    center), and a report downloaded while a day is not over has a smaller sum for that day
    than a later one. Rows are therefore running totals (`running.py`): the key is those
    columns, a later, larger row adds only its difference, the same row again adds nothing.
"""

from __future__ import annotations

from typing import ClassVar

from usage_ls.importers.base import project_of
from usage_ls.importers.exports import CsvExport, number, when
from usage_ls.importers.lines import FileResult
from usage_ls.importers.running import RunningTotals, Snapshot

FEATURE = "copilot-report"
PREMIUM_REQUEST_USD = 0.04  # GitHub's price of a premium request beyond the allowance
AI_CREDIT_USD = 0.01  # "1 AI Credit = $0.01" (GitHub's Copilot billing docs, June 2026)
AI_USAGE = ("copilot", "premium", "ai_credit", "ai credit")


class CopilotReport(RunningTotals, CsvExport):
    name = "copilot-report"
    feature = FEATURE
    env = "USAGE_LS_COPILOT_REPORT"
    columns: ClassVar[dict[str, tuple[str, ...]]] = {
        "date": ("date", "Timestamp", "usage_date"),
        "quantity": ("quantity", "Requests Used", "premium_requests"),
        "user": ("username", "User", "login"),
        "model": ("model",),
        "product": ("product",),
        "sku": ("sku",),
        "unit_price": ("applied_cost_per_quantity",),
        "gross": ("gross_amount",),
        "aic": ("aic_quantity",),
        "aic_gross": ("aic_gross_amount",),
        "organization": ("organization",),
        "repository": ("repository",),
        "workflow": ("workflow_path",),
        "cost_center": ("cost_center_name",),
        "input": ("input", "input_tokens"),
        "output": ("output", "output_tokens"),
        "cache_read": ("cache_read", "cache_read_tokens"),
        "cache_write": ("cache_write", "cache_write_tokens"),
    }
    required = ("date", "quantity")
    detect = required

    def looks_like(self, path) -> bool:
        if not super().looks_like(path):
            return False
        with open(path, "rb") as f:
            line = f.read(4096).split(b"\n", 1)[0].decode("utf-8", "replace")
        import csv

        have = self.fields_of(next(csv.reader([line.lstrip("\ufeff")]), []))
        return "user" in have or "model" in have

    def row(self, f: dict[str, str], where: str, result: FileResult) -> None:
        product, sku = f.get("product", ""), f.get("sku", "")
        if (product or sku) and not any(m in f"{product} {sku}".lower() for m in AI_USAGE):
            return  # Actions minutes, storage, ...: not AI usage
        ts = when(f["date"])
        if ts is None:
            result.bad(where, f"date: not a date ({f['date'][:40]!r})")
            return
        try:
            quantity = number(f["quantity"], "quantity")
            counts = {
                c: int(number(f.get(k, ""), k))
                for c, k in (
                    ("inputTokens", "input"),
                    ("outputTokens", "output"),
                    ("cacheReadTokens", "cache_read"),
                    ("cacheWriteTokens", "cache_write"),
                )
            }
            gross = number(f["gross"], "gross_amount") if f.get("gross") else None
            unit = number(f["unit_price"], "applied_cost_per_quantity") if f.get("unit_price") else None
            aic = number(f["aic"], "aic_quantity") if f.get("aic") else None
        except ValueError as exc:
            result.bad(where, str(exc))
            return
        credits = aic if aic is not None else (quantity if "ai_credit" in sku else None)
        if gross is not None:
            cost: float | None = gross
        elif unit is not None:
            cost = round(quantity * unit, 9)
        elif credits is not None:
            cost = round(credits * AI_CREDIT_USD, 9)
        else:
            cost = round(quantity * PREMIUM_REQUEST_USD, 9)  # premium requests, no amounts
        if not (quantity or any(counts.values()) or cost):
            return
        user, model = f.get("user", ""), f.get("model", "")
        key = "\x1f".join(
            [f["date"], user, model, sku]
            + [f.get(k, "") for k in ("organization", "repository", "cost_center", "workflow")]
        )
        rec = {
            "model": (model or sku or "copilot")[:200],
            "provider": "github-copilot",
            "billing": "premium",
            "project": project_of(f.get("repository")) or "(no project)",
            "feature": FEATURE,
        }
        if user:
            rec["user"] = user[:200]
        result.entries.append(Snapshot(key, ts, counts, rec, cost=cost, credits=credits))
