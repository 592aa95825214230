"""Price data that follows new models (issue #16): a newer genai-prices, `usage-ls prices
update` (explicit, never by itself), its date in `usage-ls doctor`, and stored costs that no
new price data changes. Everything runs through the real `usage-ls` command (and the real
server where it matters); the network is a loopback HTTP server, or not there at all."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import json
import os
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
from editor import Editor, rec
from genai_prices import Usage, calc_price

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.datetime.now(dt.UTC).date().isoformat()

# genai-prices' published data.json format (prices/new_data/v2/data.json): a list of providers.
# Claude Sonnet 4.5 at twice its list price, and a model no bundled table knows.
NEW_DATA = [
    {
        "id": "anthropic",
        "name": "Anthropic",
        "api_pattern": "https://api\\.anthropic\\.com",
        "model_match": {"contains": "claude"},
        "models": [
            {
                "id": "claude-sonnet-4-5",
                "match": {"or": [{"starts_with": "claude-sonnet-4-5"}, {"starts_with": "claude-sonnet-4.5"}]},
                "prices": {"input_mtok": 6, "output_mtok": 30, "cache_read_mtok": 0.6, "cache_write_mtok": 7.5},
            }
        ],
    },
    {
        "id": "acme",
        "name": "Acme AI",
        "api_pattern": "https://api\\.acme\\.example",
        "model_match": {"starts_with": "acme-"},
        "models": [
            {"id": "acme-new-1", "match": {"equals": "acme-new-1"}, "prices": {"input_mtok": 1, "output_mtok": 2}}
        ],
    },
]
NEW_SONNET = (1000 * 6 + 100 * 30) / 1e6  # 1000 in, 100 out at the new data's prices
NEW_ACME = (1000 * 1 + 100 * 2) / 1e6


def usage_ls(data_dir: Path, *args: str, env: dict | None = None, stdin: str | None = None, check: bool = True):
    out = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out


def report(data_dir: Path, what: str, *extra: str) -> dict:
    return json.loads(usage_ls(data_dir, "report", what, "--json", *extra).stdout)


def rows(data_dir: Path) -> dict[str, dict]:
    return {r["id"]: r for r in report(data_dir, "interactions", "--limit", "1000")["rows"]}


def record(data_dir: Path, model: str, rec_id: str, provider: str | None = None) -> None:
    extra = ["--provider", provider] if provider else []
    usage_ls(data_dir, "record", "--model", model, "--input", "1000", "--output", "100", "--id", rec_id, *extra)


def write(path: Path, data) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


# -- the pin ------------------------------------------------------------------------------------


def test_genai_prices_is_0_2_5_or_a_newer_compatible_release():
    from importlib.metadata import version

    from packaging.requirements import Requirement
    from packaging.version import Version

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    req = next(Requirement(d) for d in deps if d.startswith("genai-prices"))
    assert Version(version("genai-prices")) >= Version("0.2.5")
    # newer 0.2.x releases (new models, new prices) are allowed; 0.3 may change the API we use
    assert all(v in req.specifier for v in ("0.2.5", "0.2.9", "0.2.20")), req
    assert "0.2.3" not in req.specifier and "0.3.0" not in req.specifier, req


# -- models the table knows under one provider only ---------------------------------------------


def test_glm_4_6_is_priced_as_zai_lists_it(data_dir):
    # genai-prices guesses the provider from the name (`glm-` -> zhipuai) and finds no GLM-4.6
    # there; Z.AI (provider `zai`) lists it, and so does OpenRouter as `z-ai/glm-4.6`
    record(data_dir, "glm-4.6", "glm")
    record(data_dir, "z-ai/glm-4.6", "glm-openrouter")
    got = rows(data_dir)
    usage = Usage(input_tokens=1000, output_tokens=100)
    want = float(calc_price(usage, "glm-4.6", provider_id="zai").total_price)
    assert got["glm"]["costSource"] == "computed" and got["glm"]["costUsd"] == pytest.approx(want)
    want = float(calc_price(usage, "z-ai/glm-4.6", provider_id="openrouter").total_price)
    assert got["glm-openrouter"]["costUsd"] == pytest.approx(want)


def test_a_name_no_provider_lists_stays_unpriced_unless_configured(data_dir):
    # qwen3-coder-plus (Qwen Code's default) is in genai-prices only as OpenRouter's resale
    # `qwen/qwen3-coder-plus`: not guessed from there; config.toml prices it
    record(data_dir, "definitely-not-a-model-7", "unknown")
    assert rows(data_dir)["unknown"]["costSource"] == "unpriced"
    data_dir.joinpath("config.toml").write_text('[prices."definitely-not-a-model-7"]\ninput = 1.0\noutput = 5.0\n')
    record(data_dir, "definitely-not-a-model-7", "configured")
    assert rows(data_dir)["configured"]["costUsd"] == pytest.approx((1000 * 1.0 + 100 * 5.0) / 1e6)


# -- prices update: stored costs stay, new records take the new data ----------------------------


def test_new_price_data_changes_no_stored_cost_and_prices_new_records(data_dir, tmp_path):
    for i, model in enumerate(["claude-sonnet-4-5", "gpt-4o", "acme-new-1", "claude-sonnet-4-5"]):
        record(data_dir, model, f"old-{i}")
    usage_ls(data_dir, "checkpoint")  # some in day files, some in the journal
    record(data_dir, "claude-sonnet-4-5", "old-journal")
    before = {what: report(data_dir, what) for what in ("today", "models", "projects", "daily")}
    old = rows(data_dir)
    assert old["old-0"]["costUsd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)  # the bundled price
    assert old["old-2"]["costSource"] == "unpriced"

    out = usage_ls(data_dir, "prices", "update", "--from", str(write(tmp_path / "data.json", NEW_DATA)))
    assert "price data updated" in out.stdout and "-> 2 providers" in out.stdout
    assert "new models (1): acme/acme-new-1" in out.stdout
    assert "new prices (1): anthropic/claude-sonnet-4-5" in out.stdout
    assert "records already stored keep their cost" in out.stdout

    # nothing stored moved: every record, every total, before and after a checkpoint
    for _ in range(2):
        assert {k: v for k, v in rows(data_dir).items() if k in old} == old
        assert {what: report(data_dir, what) for what in before} == before
        usage_ls(data_dir, "checkpoint")

    # new records take the new data, for a (model, day) the price cache had already seen too
    record(data_dir, "claude-sonnet-4-5", "new-sonnet")
    record(data_dir, "acme-new-1", "new-acme")
    record(data_dir, "gpt-4o", "new-gpt")
    new = rows(data_dir)
    assert new["new-sonnet"]["costUsd"] == pytest.approx(NEW_SONNET)
    assert new["new-acme"]["costUsd"] == pytest.approx(NEW_ACME) and new["new-acme"]["costSource"] == "computed"
    assert new["new-gpt"]["costSource"] == "unpriced"  # not in the new data
    today = report(data_dir, "today")
    assert today["costUsd"] == pytest.approx(before["today"]["costUsd"] + NEW_SONNET + NEW_ACME)

    # and back to the bundled table
    assert "bundled genai-prices table" in usage_ls(data_dir, "prices", "reset").stdout
    record(data_dir, "claude-sonnet-4-5", "bundled-again")
    assert rows(data_dir)["bundled-again"]["costUsd"] == pytest.approx(old["old-0"]["costUsd"])


def test_the_price_cache_is_stamped_with_the_price_data(data_dir, tmp_path, monkeypatch):
    from usage_ls import price_data
    from usage_ls.config import load_config
    from usage_ls.pricing import Pricer

    monkeypatch.setenv("USAGE_LS_CACHE_DIR", str(tmp_path / "cache"))
    cfg = load_config(data_dir)
    ts = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    bundled = Pricer(cfg)
    assert bundled.rates("claude-sonnet-4-5", None, ts, 1000).input == pytest.approx(3e-6)
    bundled.save_cache()

    body = json.dumps(NEW_DATA).encode()
    _, providers = price_data.parse(body, "test")
    price_data.install(data_dir, body, providers, "test", None)
    fresh = Pricer(cfg)
    assert fresh.rates("claude-sonnet-4-5", None, ts, 1000).input == pytest.approx(6e-6)
    fresh.save_cache()
    again = Pricer(cfg)  # from the cache, for this data: genai-prices not loaded
    assert again.rates("claude-sonnet-4-5", None, ts, 1000).input == pytest.approx(6e-6)
    assert again._snap is None

    # a process that started before the update follows it (a running server does, every second)
    assert bundled.follow_data()
    assert bundled.rates("claude-sonnet-4-5", None, ts, 1000).input == pytest.approx(6e-6)
    assert not bundled.follow_data()
    price_data.reset(data_dir)
    assert bundled.follow_data() and bundled.rates("claude-sonnet-4-5", None, ts, 1000).input == pytest.approx(3e-6)


async def test_a_running_server_prices_new_records_with_updated_data(data_dir, tmp_path):
    async with Editor(data_dir) as ed:
        await ed.record(rec("claude-sonnet-4-5", id="before"))
        uri = ed.open_doc("notes.md", "we try acme-new-1 today")
        assert await ed.hover(uri, 0, 9) is None  # no price table knows it yet

        usage_ls(data_dir, "prices", "update", "--from", str(write(tmp_path / "data.json", NEW_DATA)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15  # the server looks at the price data once a second
        while (hover := await ed.hover(uri, 0, 9)) is None and loop.time() < deadline:
            await asyncio.sleep(0.1)
        assert hover is not None and "acme/acme-new-1" in hover.contents.value

        await ed.record(rec("claude-sonnet-4-5", id="after"), rec("acme-new-1", id="acme"))
        got = {r["id"]: r for r in (await ed.request("usage/interactions"))["rows"]}
        assert got["before"]["costUsd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
        assert got["after"]["costUsd"] == pytest.approx(NEW_SONNET)
        assert got["acme"]["costUsd"] == pytest.approx(NEW_ACME)


# -- fetching: loopback only, explicit only -----------------------------------------------------


class _DataServer:
    """genai-prices' data URL, on 127.0.0.1: serves `body` at PATH, 404 elsewhere."""

    PATH = "/pydantic/genai-prices/refs/heads/main/prices/new_data/v2/data.json"

    def __init__(self, body: bytes):
        self.body, self.hits = body, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                if self.path != outer.PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Last-Modified", "Sun, 06 Dec 2026 09:00:00 GMT")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{self.PATH}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def data_server():
    server = _DataServer(json.dumps(NEW_DATA).encode())
    yield server
    server.close()


def test_prices_update_fetches_checks_and_stores_the_data(data_dir, data_server):
    record(data_dir, "acme-new-1", "before")
    doctor = usage_ls(data_dir, "doctor", check=False).stdout
    assert "price data:     bundled with genai-prices 0.2." in doctor and "(installed 20" in doctor

    out = usage_ls(data_dir, "prices", "update", env={"USAGE_LS_PRICES_URL": data_server.url})
    assert data_server.hits == [data_server.PATH]
    assert "new models (1): acme/acme-new-1" in out.stdout
    stored = data_dir / "prices" / "genai-prices.json"
    doc = json.loads(stored.read_bytes())
    assert doc["data"] == NEW_DATA and doc["origin"] == data_server.url  # the data exactly as published
    assert not [p for p in stored.parent.iterdir() if p != stored]  # no temp file left

    # doctor and `prices show` say where the data came from and its date
    for text in (usage_ls(data_dir, "doctor", check=False).stdout, usage_ls(data_dir, "prices", "show").stdout):
        assert f"downloaded {TODAY} " in text and f"from {data_server.url}" in text, text
        assert "last modified Sun, 06 Dec 2026 09:00:00 GMT" in text and "2 providers, 2 models" in text
        assert str(stored) in text
    record(data_dir, "acme-new-1", "after")
    got = rows(data_dir)
    assert got["before"]["costSource"] == "unpriced" and got["after"]["costUsd"] == pytest.approx(NEW_ACME)

    # --url wins over the environment; a failed fetch keeps the data in use
    bad = usage_ls(data_dir, "prices", "update", "--url", data_server.url + ".missing", check=False)
    assert bad.returncode == 1 and "HTTP 404" in bad.stderr and "the price data in use is unchanged" in bad.stderr
    assert json.loads(stored.read_bytes()) == doc


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[{not json", "not JSON"),
        ('{"providers": []}', "expected a list of providers (genai-prices' data.json), got an object"),
        ("[]", "the list of providers is empty"),
        (
            [{**NEW_DATA[1], "models": [{**NEW_DATA[1]["models"][0], "prices": {"input_mtok": "cheap"}}]}],
            "provider 'acme', model 'acme-new-1': input_mtok: Input should be a valid decimal",
        ),
        (
            [{k: v for k, v in NEW_DATA[0].items() if k != "api_pattern"}],
            "provider 'anthropic': api_pattern: Field required",
        ),
        (
            [{**NEW_DATA[1], "models": [{**NEW_DATA[1]["models"][0], "prices": {"input_mtok": -1}}]}],
            "provider 'acme', model 'acme-new-1': input_mtok: -1 is not a price",
        ),
        (
            [{**NEW_DATA[1], "models": [{**NEW_DATA[1]["models"][0], "match": {"sounds_like": "acme"}}]}],
            "provider 'acme', model 'acme-new-1': match: Input tag 'sounds_like'",
        ),
    ],
)
def test_malformed_price_data_is_rejected_and_the_old_data_kept(data_dir, tmp_path, content, says):
    usage_ls(data_dir, "prices", "update", "--from", str(write(tmp_path / "good.json", NEW_DATA)))
    stored = data_dir / "prices" / "genai-prices.json"
    kept = stored.read_bytes()
    out = usage_ls(data_dir, "prices", "update", "--from", str(write(tmp_path / "bad.json", content)), check=False)
    assert out.returncode == 1
    assert f"usage-ls prices update: {tmp_path / 'bad.json'}: " in out.stderr and says in out.stderr, out.stderr
    assert "the price data in use is unchanged (downloaded" in out.stderr
    assert stored.read_bytes() == kept
    record(data_dir, "acme-new-1", "still-new-data")
    assert rows(data_dir)["still-new-data"]["costUsd"] == pytest.approx(NEW_ACME)


def test_a_damaged_data_file_falls_back_to_the_bundled_table_and_doctor_says_so(data_dir, tmp_path):
    usage_ls(data_dir, "prices", "update", "--from", str(write(tmp_path / "good.json", NEW_DATA)))
    stored = data_dir / "prices" / "genai-prices.json"
    stored.write_bytes(stored.read_bytes()[:100])
    record(data_dir, "claude-sonnet-4-5", "fallback")
    assert rows(data_dir)["fallback"]["costUsd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
    doctor = usage_ls(data_dir, "doctor", check=False)
    assert doctor.returncode == 1
    assert f"{stored} is unreadable" in doctor.stdout and "priced with the bundled genai-prices data" in doctor.stdout


GUARD = """\
import os, socket, traceback

def _refuse(what):
    with open(os.environ["NET_GUARD_LOG"], "a") as fh:
        fh.write(f"pid {os.getpid()}: {what}\\n{''.join(traceback.format_stack(limit=12))}\\n")
    raise OSError(f"network refused by the test: {what}")

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(f"connect {address}")
    return _connect(self, address)

def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(f"connect_ex {address}")
    return _connect_ex(self, address)

def getaddrinfo(host, *args, **kwargs):
    _refuse(f"getaddrinfo {host}")

socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
"""


async def test_nothing_fetches_price_data_by_itself(data_dir, tmp_path, monkeypatch):
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "network.log"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(guard), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("NET_GUARD_LOG", str(log))
    monkeypatch.setenv("USAGE_LS_CACHE_DIR", str(tmp_path / "empty-cache"))  # genai-prices really loads

    # the guard works: the one command that fetches is stopped by it
    refused = usage_ls(data_dir, "prices", "update", "--url", "http://127.0.0.1:9/data.json", check=False)
    assert refused.returncode == 1 and "network refused by the test" in refused.stderr
    assert "127.0.0.1" in log.read_text()
    log.unlink()

    samples = ROOT / "tests" / "fixtures" / "logs" / "samples"
    record(data_dir, "claude-sonnet-4-5", "a")
    record(data_dir, "glm-4.6", "b")
    usage_ls(data_dir, "record", stdin='{"model": "gpt-4o", "inputTokens": 5, "outputTokens": 5}\n')
    for args in (
        ["import", "claude-code", str(samples / "claude")],
        ["import", "codex", str(samples / "codex")],
        ["report", "today"],
        ["report", "models"],
        ["statusline"],
        ["insights"],
        ["config"],
        ["prices", "show"],
        ["checkpoint"],
        ["dashboard", "--out", str(tmp_path / "usage.html")],
    ):
        usage_ls(data_dir, *args)
    usage_ls(data_dir, "doctor", check=False)
    async with Editor(data_dir) as ed:
        await ed.record(rec("claude-sonnet-4-5"), rec("qwen3-coder-plus"))
        uri = ed.open_doc("notes.md", "gpt-4o and glm-4.6")
        assert await ed.hover(uri, 0, 2) is not None
        await ed.request("usage/insights")
    assert not log.exists(), log.read_text()
