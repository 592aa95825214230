"""Pricing: the fast path must equal genai-prices' own calc_price, record by record."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price, data_snapshot

from usage_ls.config import Config
from usage_ls.pricing import Match, Pricer

TS = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
MS = int(TS.timestamp() * 1000)


def stored(model, inp, out, cr=0, cw=0, cw1h=0, provider=None, **kw):
    return {
        "model": model,
        "provider": provider,
        "ts": MS,
        "inputTokens": inp,
        "outputTokens": out,
        "cacheReadTokens": cr,
        "cacheWriteTokens": cw,
        "cacheWrite1hTokens": cw1h,
        "costUsd": None,
        "credits": None,
        "billing": kw.get("billing", "premium"),
    }


@pytest.fixture(scope="module")
def pricer():
    return Pricer(Config(data_dir=Path("/nonexistent")))


def test_fast_path_equals_calc_price_for_every_model_across_tiers(pricer):
    rng = random.Random(3)
    checked = 0
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            for _ in range(3):
                inp = rng.choice([0, 7, 1000, 127_999, 128_001, 199_999, 200_000, 200_001, 1_500_000])
                cr = rng.choice([0, 10, 60_000, 250_000])
                cw = rng.choice([0, 1000, 30_000])
                cw1h = rng.choice([0, cw // 3, cw])
                out = rng.randint(0, 30_000)
                try:
                    ref = calc_price(
                        Usage(
                            input_tokens=inp + cr + cw,
                            output_tokens=out,
                            cache_read_tokens=cr,
                            cache_write_tokens=cw,
                            cache_write_1h_tokens=cw1h,
                        ),
                        model.id,
                        provider_id=provider.id,
                        genai_request_timestamp=TS,
                    ).total_price
                except Exception:
                    continue  # models priced by other units (images, audio) are not ours to check
                got = pricer.cost(stored(model.id, inp, out, cr, cw, cw1h, provider=provider.id))
                if model.deprecated and not any(v is not None for v in vars(model.get_prices(TS)).values()):
                    assert got is None, (provider.id, model.id)  # retired without a price: unknown, not $0
                    continue
                assert got == pytest.approx(float(ref), rel=1e-9, abs=1e-12), (
                    provider.id,
                    model.id,
                    inp,
                    out,
                    cr,
                    cw,
                    cw1h,
                )
                checked += 1
    assert checked > 1000


def test_cache_kinds_at_their_own_rates(pricer):
    # claude-sonnet-4-5: $3 in, $15 out, $0.30 cache read, $3.75 5-minute write, $6 1-hour write per M
    rec = stored("claude-sonnet-4-5", 1000, 2000, cr=30_000, cw=16_500, cw1h=6_500)
    expect = (1000 * 3 + 2000 * 15 + 30_000 * 0.30 + 10_000 * 3.75 + 6_500 * 6) / 1e6
    assert pricer.cost(rec) == pytest.approx(expect)


def test_tiered_price_applies_to_the_record_not_the_day(pricer):
    # above 200k input tokens claude-sonnet-4-5 costs $6/M input and $22.50/M output
    small = pricer.cost(stored("claude-sonnet-4-5", 150_000, 1000))
    big = pricer.cost(stored("claude-sonnet-4-5", 250_000, 1000))
    assert small == pytest.approx((150_000 * 3 + 1000 * 15) / 1e6)
    assert big == pytest.approx((250_000 * 6 + 1000 * 22.5) / 1e6)


def test_dated_names_provider_prefixes_and_unknown_models(pricer):
    assert pricer.cost(stored("claude-3-5-haiku-20241022", 1_000_000, 0)) == pytest.approx(0.8)
    assert pricer.cost(stored("openai/gpt-4.1-mini", 1_000_000, 0)) == pytest.approx(0.4)
    assert pricer.cost(stored("definitely-not-a-model", 10, 10)) is None
    rec = pricer.apply(stored("definitely-not-a-model", 10, 10))
    assert rec["costUsd"] is None and rec["costSource"] == "unpriced" and rec["credits"] is None


def test_reported_cost_wins_and_byok_spends_no_credits(pricer):
    rec = pricer.apply({**stored("gpt-4o", 10, 10), "costUsd": 0.5})
    assert rec["costSource"] == "reported" and rec["credits"] == pytest.approx(50)
    rec = pricer.apply(stored("gpt-4o", 1_000_000, 0, billing="byok"))
    assert rec["costUsd"] == pytest.approx(2.5) and rec["credits"] == 0


def test_historical_prices_follow_the_record_date(pricer):
    # the price table's history must be consulted with the record's own time, not now
    old = dict(stored("gpt-4o", 1_000_000, 0), ts=int(dt.datetime(2024, 6, 1, tzinfo=dt.UTC).timestamp() * 1000))
    ref = calc_price(
        Usage(input_tokens=1_000_000, output_tokens=0),
        "gpt-4o",
        genai_request_timestamp=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
    ).total_price
    assert pricer.cost(old) == pytest.approx(float(ref))


def test_a_name_one_model_in_the_table_takes_is_priced_by_it_and_no_guess_otherwise(pricer):
    # genai-prices looks in the one provider it picks by the name; a name only another
    # provider lists (glm-4.6: Z.AI, while `glm-` picks Zhipu AI) is found there, a name that
    # several take (resellers at different prices) stays unpriced
    snap = data_snapshot.get_snapshot()
    assert pricer.match("glm-4.6") == Match("GLM-4.6", "zai", "genai-prices")
    unique = several = 0
    for provider in snap.providers:
        for model in provider.models:
            name = model.id.lower()
            if "/" in name:
                continue  # a provider prefix is tried first (split_ref)
            try:
                snap.find_provider_model(name, None, None, None)
                continue
            except LookupError:
                pass
            hits = [(p, m) for p in snap.providers for m in p.models if m.is_match(name)]
            got = pricer.match(name)
            if len(hits) == 1 and hits[0][1].deprecated and not any(vars(hits[0][1].get_prices(TS)).values()):
                assert got is None, name  # retired without a price: unknown, not $0
            elif len(hits) == 1:
                assert got == Match(hits[0][1].id, hits[0][0].id, "genai-prices"), name
                unique += 1
            else:
                assert got is None, (name, [(p.id, m.id) for p, m in hits])
                several += 1
    assert unique > 10 and several > 0, (unique, several)


# DeepSeek's price in genai-prices changes with the time of day: full price 00:30-16:30 UTC,
# half price otherwise. The pricer keeps rates per UTC day; the day's first record must not
# decide the price of the rest.
DEEPSEEK_TIMES = ["20:00", "10:00", "00:15", "00:45", "16:29", "16:31", "23:59"]


def _deepseek_at(hhmm: str) -> tuple[dict, float]:
    h, m = map(int, hhmm.split(":"))
    when = dt.datetime(2026, 11, 20, h, m, tzinfo=dt.UTC)
    rec = dict(
        stored("deepseek-chat", 400_000, 30_000, cr=100_000, provider="deepseek"), ts=int(when.timestamp() * 1000)
    )
    ref = calc_price(
        Usage(input_tokens=500_000, output_tokens=30_000, cache_read_tokens=100_000),
        "deepseek-chat",
        provider_id="deepseek",
        genai_request_timestamp=when,
    ).total_price
    return rec, float(ref)


def test_a_time_of_day_price_follows_each_records_own_time(tmp_path, monkeypatch):
    monkeypatch.setenv("USAGE_LS_CACHE_DIR", str(tmp_path / "cache"))
    first = Pricer(Config(data_dir=tmp_path / "data"))
    refs = {}
    for hhmm in DEEPSEEK_TIMES:  # the off-peak 20:00 record first
        rec, refs[hhmm] = _deepseek_at(hhmm)
        assert first.cost(rec) == pytest.approx(refs[hhmm], rel=1e-9), hhmm
    assert refs["10:00"] == pytest.approx(2 * refs["20:00"])  # the table really has two prices that day
    first.save_cache()
    # a later command reads the day from the price cache: the same windows
    again = Pricer(Config(data_dir=tmp_path / "data"))
    for hhmm in reversed(DEEPSEEK_TIMES):
        rec, ref = _deepseek_at(hhmm)
        assert again.cost(rec) == pytest.approx(ref, rel=1e-9), hhmm
    assert again._snap is None  # from the cache, without loading genai-prices


def test_records_of_one_day_at_peak_and_off_peak_hours_cost_their_own_price(tmp_path):
    # what a user sees: two DeepSeek records the same day, the off-peak one recorded first
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, USAGE_LS_CACHE_DIR=str(tmp_path / "cache"))
    data = tmp_path / "data"
    costs = []
    for hhmm in ("20:00", "10:00"):
        rec, ref = _deepseek_at(hhmm)
        costs.append(ref)
        out = subprocess.run(
            [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "record", "--model", "deepseek-chat"]
            + ["--provider", "deepseek", "--input", "400000", "--output", "30000", "--cache-read", "100000"]
            + ["--billing", "byok", "--project", "p", "--timestamp", f"2026-11-20T{hhmm}:00Z", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(out.stdout)["accepted"] == 1, out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "report", "daily"]
        + ["--from", "2026-11-20", "--to", "2026-11-20", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    day = json.loads(out.stdout)["days"][0]
    assert day["costUsd"] == pytest.approx(sum(costs), rel=1e-6)
    assert costs[1] == pytest.approx(2 * costs[0])
