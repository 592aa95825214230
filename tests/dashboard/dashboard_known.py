"""The known ledger the dashboard tests add up by hand, and small helpers (imported by conftest
and the tests; a plain module because conftest is not importable under --import-mode=importlib)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from usage_ls.service import Usage

XSS_PROJECT = "<img src=x onerror=alert(1)>"
XSS_MODEL = "</script><script>alert(1)</script>"
FORMULA_PROJECT = "=SUM(A1:A2)"
FORMULA_USER = "+cmd"


def _rec(day: dt.date, minute: int, **kw) -> dict:
    ts = dt.datetime.combine(day, dt.time(0, 0), dt.UTC) + dt.timedelta(minutes=minute)
    base = {"timestamp": ts.isoformat().replace("+00:00", "Z"), "cacheReadTokens": 0, "cacheWriteTokens": 0}
    return {**base, **kw}


def known_records(today: dt.date) -> list[dict]:
    """The known ledger. Credits and costUsd are given explicitly (no price table involved),
    except for acme-coder-v2, which no price table knows: it is unpriced."""
    d = lambda n: today - dt.timedelta(days=n)
    P, B = "premium", "byok"
    recs = [
        # today
        _rec(
            d(0),
            1,
            id="r1",
            project="widget",
            user="alice",
            model="claude-sonnet-4-5",
            billing=P,
            inputTokens=1000,
            outputTokens=200,
            cacheReadTokens=5000,
            cacheWriteTokens=300,
            credits=12.5,
            costUsd=0.125,
        ),
        _rec(
            d(0),
            2,
            id="r2",
            project="widget",
            user="bob",
            model="gpt-4.1-mini",
            billing=P,
            inputTokens=400,
            outputTokens=100,
            credits=1.5,
            costUsd=0.015,
        ),
        _rec(
            d(0),
            3,
            id="r3",
            project="api",
            user="alice",
            model="gemini-2.5-pro",
            billing=B,
            inputTokens=2000,
            outputTokens=500,
            costUsd=0.75,
        ),
        _rec(
            d(0),
            4,
            id="r4",
            project="api",
            user="bob",
            model="acme-coder-v2",
            billing=B,
            inputTokens=300,
            outputTokens=50,
        ),
        _rec(
            d(0),
            5,
            id="r5",
            project=XSS_PROJECT,
            user="alice",
            model=XSS_MODEL,
            billing=P,
            inputTokens=10,
            outputTokens=5,
            credits=0.5,
            costUsd=0.005,
        ),
        _rec(
            d(0),
            6,
            id="r6",
            project=FORMULA_PROJECT,
            user=FORMULA_USER,
            model="gpt-4.1-mini",
            billing=P,
            inputTokens=100,
            outputTokens=10,
            credits=0.2,
            costUsd=0.002,
        ),
        # yesterday
        _rec(
            d(1),
            60,
            id="r7",
            project="widget",
            user="alice",
            model="claude-sonnet-4-5",
            billing=P,
            inputTokens=2000,
            outputTokens=400,
            cacheReadTokens=10000,
            credits=20.0,
            costUsd=0.2,
        ),
        _rec(
            d(1),
            61,
            id="r8",
            project="api",
            user="bob",
            model="gemini-2.5-pro",
            billing=B,
            inputTokens=1000,
            outputTokens=250,
            costUsd=0.4,
        ),
        # 3, 10, 20 and 40 days ago
        _rec(
            d(3),
            60,
            id="r9",
            project="docs",
            user="carol",
            model="gpt-4.1-mini",
            billing=P,
            inputTokens=600,
            outputTokens=60,
            credits=3.0,
            costUsd=0.03,
        ),
        _rec(
            d(10),
            60,
            id="r10",
            project="widget",
            user="alice",
            model="claude-sonnet-4-5",
            billing=P,
            inputTokens=5000,
            outputTokens=1000,
            credits=40.0,
            costUsd=0.4,
        ),
        _rec(
            d(20),
            60,
            id="r11",
            project="docs",
            user="carol",
            model="gemini-2.5-pro",
            billing=B,
            inputTokens=800,
            outputTokens=80,
            costUsd=0.2,
        ),
        _rec(
            d(40),
            60,
            id="r12",
            project="widget",
            user="alice",
            model="gpt-4.1-mini",
            billing=P,
            inputTokens=100,
            outputTokens=10,
            credits=100.0,
            costUsd=1.0,
        ),
    ]
    # two days ago: 120 small interactions (enough for three pages of 50): input 20, 30, ... 1210
    for i in range(120):
        recs.append(
            _rec(
                d(2),
                600 + i,
                id=f"bulk{i:03d}",
                project="bulk",
                user="dave",
                model="gpt-4.1-mini",
                billing=P,
                inputTokens=20 + 10 * i,
                outputTokens=1,
                credits=0.1,
                costUsd=0.001,
            )
        )
    return recs


def seed(data_dir: Path, records: list[dict], config: str = 'timezone = "UTC"\nuser = "tester"\n') -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.toml").write_text(config, encoding="utf-8")
    svc = Usage(data_dir=data_dir, tag="seed").open()
    try:
        result = svc.record(records)
        assert result["accepted"] == len(records), result
        svc.ledger.checkpoint()
    finally:
        svc.close()


def wait_settled(page, before: str | None) -> None:
    """Wait until the page has finished the refresh that started after `before` (its gen)."""
    page.wait_for_function(
        "([g]) => { const a = document.getElementById('app');"
        " return a.dataset.gen !== g && a.getAttribute('aria-busy') === 'false'; }",
        arg=[before],
    )


# -- a ledger with a spike and tips, for the Insights card ------------------------------------

SPIKE_BACK = 3  # the spike day: three days ago
INSIGHTS_CONFIG = (
    'timezone = "UTC"\nuser = "tester"\n[budgets]\ndaily_credits = 10\nmonthly_credits = 5000\nmonthly_byok_usd = 5\n'
)


def insight_records(today: dt.date, now: dt.datetime) -> list[dict]:
    """34 ordinary days of one $0.50 answer (50 credits at $0.01 a credit) at noon, and on the
    spike day 40 short answers of claude-opus-4-1 besides, in a project with a script-like
    name; today, one Premium and one BYOK answer a minute ago (the burn rate).

    By hand, for the spike day (Premium, in credits):
      - every baseline day is 50 credits: median 50, MAD 0 and mean deviation 0, so the
        threshold is max(50 + $1 = 100 credits, 2.5 x 50, 50 + 3.5 x 0) = 150 credits;
      - 40 x (2,000 input, 300 output) at opus' $15/M and $75/M = 40 x $0.0525 = $2.10 =
        210 credits, plus the usual 50: 260 credits, a spike; opus 210/260 = 81% of it;
      - tip spikeSource: 260 - 50 = 210 credits ($2.10) above a typical day;
      - tip cheaperModel: the same tokens at claude-sonnet-4-5's $3/M and $15/M =
        40 x $0.0105 = $0.42; saving $2.10 - $0.42 = $1.68 = 168 credits.
    """
    d = lambda n: today - dt.timedelta(days=n)
    recs = []
    for back in range(34, 0, -1):
        recs.append(
            _rec(
                d(back),
                12 * 60,
                id=f"day{back}",
                project="widget",
                user="alice",
                model="claude-sonnet-4-5",
                billing="premium",
                inputTokens=5000,
                outputTokens=900,
                costUsd=0.5,
            )
        )
    for i in range(40):
        recs.append(
            _rec(
                d(SPIKE_BACK),
                10 * 60 + i,
                id=f"spike{i}",
                project=XSS_PROJECT,
                user="alice",
                model="claude-opus-4-1",
                provider="anthropic",
                billing="premium",
                inputTokens=2000,
                outputTokens=300,
                session="loop",
            )
        )
    # today, a minute ago (never before today's midnight): 7 credits Premium, $0.25 BYOK
    midnight = dt.datetime.combine(today, dt.time(0, 0), dt.UTC)
    when = max(now - dt.timedelta(minutes=1), midnight + dt.timedelta(seconds=1)).replace(microsecond=0)
    stamp = when.isoformat().replace("+00:00", "Z")
    recs.append(
        {
            "id": "now-p",
            "timestamp": stamp,
            "project": "widget",
            "user": "alice",
            "model": "claude-sonnet-4-5",
            "billing": "premium",
            "inputTokens": 3000,
            "outputTokens": 800,
            "costUsd": 0.07,
        }
    )
    recs.append(
        {
            "id": "now-b",
            "timestamp": stamp,
            "project": "widget",
            "user": "alice",
            "model": "gpt-4.1",
            "billing": "byok",
            "inputTokens": 3000,
            "outputTokens": 800,
            "costUsd": 0.25,
        }
    )
    return recs
