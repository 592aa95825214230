"""The models the tools usage-ls reads commonly write (price_extra.COMMON) are priced, or are in
the documented unpriced list; never $0 for a model with no known price. A price-data upgrade
that prices one, or a change that unprices one, fails here until COMMON and docs/pricing.md
say so. Our own dated entries come after genai-prices, and `usage-ls prices show` lists the
unpriced models of the user's own ledger."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from usage_ls import price_extra
from usage_ls.config import Config
from usage_ls.price_extra import COMMON, UNPRICED, PriceEntry, Tier
from usage_ls.pricing import Pricer

ROOT = Path(__file__).resolve().parent.parent
NOW_MS = int(dt.datetime.now(dt.UTC).timestamp() * 1000)


@pytest.fixture
def pricer(tmp_path, monkeypatch):
    monkeypatch.setenv("USAGE_LS_CACHE_DIR", str(tmp_path / "cache"))
    return Pricer(Config(data_dir=tmp_path / "data"))


def stored(model, provider=None, inp=1000, out=100, ts=NOW_MS):
    return {
        "model": model,
        "provider": provider,
        "ts": ts,
        "inputTokens": inp,
        "outputTokens": out,
        "cacheReadTokens": 0,
        "cacheWriteTokens": 0,
        "cacheWrite1hTokens": 0,
        "costUsd": None,
        "credits": None,
        "billing": "byok",
    }


def test_every_common_model_is_priced_as_listed_or_documented_unpriced(pricer):
    tools = {c.tool for c in COMMON}
    for tool in ("qwen", "kimi", "opencode", "pi", "droid", "goose", "hermes", "openclaw", "amp"):
        assert tool in tools, tool
    assert {"codebuff", "kilo", "cline", "copilot-cli", "cursor"} <= tools
    wrong = []
    for c in COMMON:
        match = pricer.match(c.model, c.provider)
        rec = pricer.apply(stored(c.model, c.provider))
        if c.source == "unpriced":
            if match is not None or rec["costSource"] != "unpriced" or rec["costUsd"] is not None:
                wrong.append((c, match, rec["costUsd"], "now priced: update COMMON and docs/pricing.md"))
            if price_extra.unpriced_reason(c.model) is None:
                wrong.append((c, "unpriced without a documented reason in UNPRICED"))
            continue
        got = f"{match.provider_id}/{match.model_id}" if match else None
        if match is None or match.source != c.source or got != c.priced_as:
            wrong.append((c, got, match and match.source))
        elif not (rec["costSource"] == "computed" and rec["costUsd"] and rec["costUsd"] > 0):
            wrong.append((c, "priced but the cost is", rec["costUsd"]))
        elif c.source == "genai-prices":
            provider_id, model_id = c.priced_as.split("/", 1)
            # at the record's own time: genai-prices has time-of-day prices (DeepSeek's off-peak
            # half price, 16:30-00:30 UTC), and NOW_MS was taken when the tests were collected
            when = dt.datetime.fromtimestamp(NOW_MS / 1000, dt.UTC)
            ref = calc_price(
                Usage(input_tokens=1000, output_tokens=100),
                model_id,
                provider_id=provider_id,
                genai_request_timestamp=when,
            )
            if rec["costUsd"] != pytest.approx(float(ref.total_price)):
                wrong.append((c, rec["costUsd"], float(ref.total_price)))
    assert not wrong, "\n".join(map(str, wrong))


def test_the_unpriced_list_is_the_one_in_the_docs():
    # docs/pricing.md lists every model that stays unpriced, with the reason
    doc = (ROOT / "docs" / "pricing.md").read_text()
    section = doc.split("### Models that stay unpriced", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([^`]+)` \|", section, re.M))
    assert listed == set(UNPRICED), listed ^ set(UNPRICED)
    assert {c.model for c in COMMON if c.source == "unpriced"} <= set(UNPRICED)


def test_a_retired_model_without_a_price_is_unpriced_not_free(pricer):
    # genai-prices 0.2.5 keeps cerebras' qwen-3-coder-480b as deprecated, with no price at all:
    # computing it says $0; it is unknown
    assert (
        float(
            calc_price(
                Usage(input_tokens=1000, output_tokens=100), "qwen-3-coder-480b", provider_id="cerebras"
            ).total_price
        )
        == 0
    )
    rec = pricer.apply(stored("qwen-3-coder-480b", "cerebras"))
    assert rec["costSource"] == "unpriced" and rec["costUsd"] is None
    # a free model genai-prices lists (OpenRouter's `:free`, not retired) still costs $0
    rec = pricer.apply(stored("qwen/qwen3-coder:free"))
    assert rec["costSource"] == "computed" and rec["costUsd"] == 0


def test_our_dated_entries_price_what_genai_prices_lacks_and_only_that(pricer, monkeypatch):
    entries = (
        PriceEntry(
            "qwen3-coder-plus",
            ("qwen", "dashscope"),
            input=1.0,
            output=5.0,
            cache_read=0.2,
            url="https://vendor.example/pricing",
            checked="2026-12-06",
            since="2026-01-01",
            tiers=(Tier(32_000, 1.8, 9.0, 0.36),),
        ),
        # genai-prices has it: its price wins over an entry of ours
        PriceEntry("gpt-4o", (), input=99.0, output=99.0, url="https://vendor.example/gpt", checked="2026-12-06"),
    )
    monkeypatch.setattr(price_extra, "ENTRIES", entries)
    small = pricer.apply(stored("qwen3-coder-plus", "qwen", inp=1000, out=100))
    assert small["costSource"] == "computed" and small["costUsd"] == pytest.approx((1000 * 1.0 + 100 * 5.0) / 1e6)
    big = pricer.apply({**stored("qwen3-coder-plus", None, inp=30_000, out=100), "cacheReadTokens": 10_000})
    assert big["costUsd"] == pytest.approx((30_000 * 1.8 + 10_000 * 0.36 + 100 * 9.0) / 1e6)  # the tier of 40k input
    # another provider's record, a record from before the entry's date: not ours to price
    assert pricer.apply(stored("qwen3-coder-plus", "openrouter-x"))["costSource"] == "unpriced"
    old = int(dt.datetime(2025, 6, 1, tzinfo=dt.UTC).timestamp() * 1000)
    assert pricer.apply(stored("qwen3-coder-plus", "qwen", ts=old))["costSource"] == "unpriced"
    match = pricer.match("qwen3-coder-plus", "qwen")
    assert match is not None and match.source == "usage-ls"
    assert "https://vendor.example/pricing" in match.detail and "2026-12-06" in match.detail
    assert pricer.apply(stored("gpt-4o", "openai"))["costUsd"] == pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)
    assert pricer.match("gpt-4o").source == "genai-prices"
    # config.toml wins over both
    cfg = Config(data_dir=pricer.cfg.data_dir, prices={"qwen3-coder-plus": {"input": 2.0, "output": 2.0}})
    assert Pricer(cfg).apply(stored("qwen3-coder-plus", "qwen"))["costUsd"] == pytest.approx(1100 * 2.0 / 1e6)


def test_every_entry_of_ours_has_its_source_and_is_not_in_genai_prices(pricer):
    for entry in price_extra.ENTRIES:
        assert entry.url.startswith("https://") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.checked), entry
        assert entry.input >= 0 and entry.output >= 0, entry
        # genai-prices would win: an entry it prices is dead weight, to be removed
        providers = entry.providers or (None,)
        assert all(pricer.match(entry.model, p).source == "usage-ls" for p in providers), entry


def usage_ls(data_dir: Path, cache: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "USAGE_LS_CACHE_DIR": str(cache)}
    out = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out


def test_prices_show_lists_the_unpriced_models_of_the_users_ledger(tmp_path):
    data, cache = tmp_path / "data", tmp_path / "cache"
    lines = [
        {"id": f"r{i}", "model": model, "inputTokens": 1000, "outputTokens": 100}
        for i, model in enumerate(["qwen3-coder-plus", "qwen3-coder-plus", "acme-7", "gpt-4o"])
    ]
    usage_ls(data, cache, "record", stdin="".join(json.dumps(line) + "\n" for line in lines))
    # acme-7 gets a price in config.toml after its record was stored: that record stays unpriced
    data.joinpath("config.toml").write_text('[prices."acme-7"]\ninput = 1.0\noutput = 2.0\n')
    out = usage_ls(data, cache, "prices", "show").stdout
    assert "2 model(s) in your ledger have records without a cost" in out, out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("qwen3-coder-plus", "acme-7"))}
    assert "2 of 2" in rows["qwen3-coder-plus"] and "still unpriced" in rows["qwen3-coder-plus"]
    assert "Alibaba Model Studio" in rows["qwen3-coder-plus"]
    assert "1 of 1" in rows["acme-7"] and "priced now by your config.toml" in rows["acme-7"]
    assert "gpt-4o" not in out.split("unpriced:", 1)[1]  # priced when it was stored
    # with nothing unpriced, it says so
    out = usage_ls(tmp_path / "empty", cache, "prices", "show").stdout
    assert "unpriced:   none: every record in your ledger has a cost" in out


def test_the_hover_says_where_a_price_comes_from_or_why_there_is_none(tmp_path, monkeypatch):
    from usage_ls.service import Usage

    monkeypatch.setenv("USAGE_LS_CACHE_DIR", str(tmp_path / "cache"))
    svc = Usage(Config(data_dir=tmp_path / "data"), tag="test").open()
    try:
        note = svc.model_data("qwen3-coder-plus")["priceNote"]
        assert note.startswith("Not in the price table: unpriced (Alibaba Model Studio's price") and "[prices]" in note
        assert svc.model_data("glm-4.6")["priceNote"] == "Priced as zai/GLM-4.6 (genai-prices)"
        entry = PriceEntry(
            "qwen3-coder-plus", (), input=1.0, output=5.0, url="https://vendor.example/p", checked="2026-12-06"
        )
        monkeypatch.setattr(price_extra, "ENTRIES", (entry,))
        note = svc.model_data("qwen3-coder-plus")["priceNote"]
        assert note == "Priced from usage-ls's price list: https://vendor.example/p, checked 2026-12-06"
    finally:
        svc.close()
