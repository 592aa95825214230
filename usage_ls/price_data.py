"""The price data that prices new records: genai-prices' bundled table, or a newer copy of the
data genai-prices publishes, fetched when the user asks (`usage-ls prices update`).

- `signature(data_dir)` changes whenever the data in use changes, in a few `stat` calls and
  without importing genai-prices: the price cache (price_cache.py) is stamped with it, and a
  running server checks it to price new records with new data.
- `load(data_dir)` gives the genai-prices `DataSnapshot` to price with and `DataInfo`: where
  the data comes from and its date (`usage-ls doctor`, `usage-ls prices show`).
- `fetch`, `read`, `validate`, `install`, `compare` and `reset` are `usage-ls prices update`
  and `reset`. A fetched file is checked with genai-prices' own types (what its `UpdatePrices`
  does with what it fetches) before it is stored, atomically, as `prices/genai-prices.json` in
  the data directory; a file that fails is rejected with what is wrong and the old data kept.

Nothing here runs by itself: only `fetch` touches the network, only for `prices update`.
Records keep the cost computed when they were accepted; new data prices new records only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from usage_ls import __version__, fileio

if TYPE_CHECKING:  # imported where used: genai-prices loads in ~0.2 s
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import Provider

FORMAT = 1
URL_ENV = "USAGE_LS_PRICES_URL"
MAX_BYTES = 64 * 1024 * 1024  # genai-prices' data.json is ~0.5 MB
TIMEOUT = 30.0


class PriceDataError(Exception):
    """Price data that cannot be fetched or used; the message says where and what."""


def data_path(data_dir: Path) -> Path:
    """Where `usage-ls prices update` keeps the data it fetched."""
    return data_dir / "prices" / "genai-prices.json"


_bundled: list[Path | None] = []


def bundled_path() -> Path | None:
    """genai-prices' own table (its `data.py`), found without importing it."""
    if not _bundled:
        try:
            spec = importlib.util.find_spec("genai_prices")
            origin = spec.origin if spec is not None else None
            _bundled.append(Path(origin).with_name("data.py") if origin else None)
        except (ImportError, ValueError):
            _bundled.append(None)
    return _bundled[0]


def _stamp(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def signature(data_dir: Path) -> str:
    """Which price data prices new records here ("" when genai-prices is not found)."""
    bundled = _stamp(bundled_path())
    if not bundled:
        return ""
    fetched = _stamp(data_path(data_dir))
    return f"bundled:{bundled}" + (f"|file:{fetched}" if fetched else "")


def genai_prices_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return "(not installed)"


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class DataInfo:
    """Where the price data in use comes from, and its date."""

    kind: str  # "bundled" or "downloaded"
    genai_prices: str  # the installed genai-prices version
    path: Path | None  # data.py, or the fetched file
    date: str  # bundled: when this genai-prices was installed; downloaded: when it was fetched
    origin: str | None = None  # downloaded: the URL or file it came from
    last_modified: str | None = None  # downloaded: the server's Last-Modified, when it sent one
    validated_with: str | None = None  # downloaded: the genai-prices version that checked it
    providers: int = 0
    models: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = f"{self.providers} providers, {self.models} models"
        if self.kind == "bundled":
            return f"bundled with genai-prices {self.genai_prices} (installed {self.date}); {counts}"
        text = f"downloaded {self.date} from {self.origin}"
        if self.last_modified:
            text += f" (last modified {self.last_modified})"
        return f"{text}; {counts}"


def _bundled_info() -> DataInfo:
    path = bundled_path()
    try:
        date = _utc(os.stat(path).st_mtime) if path else "unknown"
    except OSError:
        date = "unknown"
    return DataInfo("bundled", genai_prices_version(), path, date)


def load(data_dir: Path) -> tuple[DataSnapshot, DataInfo]:
    """The table that prices new records here, and where it comes from. A fetched file that
    no longer loads (damaged, or from a genai-prices this one cannot read) is passed over for
    the bundled table, and `DataInfo.problems` says so."""
    path = data_path(data_dir)
    problem = None
    if path.exists():
        try:
            return _load_file(path)
        except PriceDataError as exc:
            problem = (
                f"{exc}; new records are priced with the bundled genai-prices data instead "
                "(`usage-ls prices update` fetches new data, `usage-ls prices reset` removes the file)"
            )
    from genai_prices import data_snapshot

    snap = data_snapshot.get_snapshot()
    info = _bundled_info()
    info.providers, info.models = len(snap.providers), sum(len(p.models) for p in snap.providers)
    if problem:
        info.problems.append(problem)
    return snap, info


def _load_file(path: Path) -> tuple[DataSnapshot, DataInfo]:
    from genai_prices.data_snapshot import DataSnapshot

    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise PriceDataError(f"{path} is unreadable ({exc})") from exc
    if type(doc) is not dict or doc.get("format") != FORMAT:
        raise PriceDataError(f"{path}: not a price data file of this usage-ls (format {FORMAT})")
    providers = validate(doc.get("data"), str(path))
    info = DataInfo(
        "downloaded",
        genai_prices_version(),
        path,
        str(doc.get("fetchedAt") or "unknown"),
        origin=str(doc.get("origin") or "unknown"),
        last_modified=doc.get("lastModified") if isinstance(doc.get("lastModified"), str) else None,
        validated_with=str(doc.get("validatedWith") or "unknown"),
        providers=len(providers),
        models=sum(len(p.models) for p in providers),
    )
    return DataSnapshot(providers=providers, from_auto_update=False), info


# -- usage-ls prices update ---------------------------------------------------------------------


def default_url() -> str:
    """`$USAGE_LS_PRICES_URL`, else the URL genai-prices' own `UpdatePrices` fetches."""
    env = os.environ.get(URL_ENV)
    if env:
        return env
    from genai_prices.update_prices import DEFAULT_UPDATE_URL

    return DEFAULT_UPDATE_URL


def fetch(url: str, timeout: float = TIMEOUT) -> tuple[bytes, str | None]:
    """The body at `url` (http or https) and its Last-Modified header."""
    if not url.lower().startswith(("http://", "https://")):
        raise PriceDataError(f"--url {url!r}: only http:// and https:// URLs are fetched (use --from for a file)")
    import urllib.error  # here: loading http.client and ssl costs every command ~13 ms
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": f"usage-ls/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(MAX_BYTES + 1)
            last_modified = response.headers.get("Last-Modified")
    except urllib.error.HTTPError as exc:
        raise PriceDataError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PriceDataError(f"could not fetch {url}: {reason}") from exc
    if len(body) > MAX_BYTES:
        raise PriceDataError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MB: not price data")
    return body, last_modified


def read(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            body = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PriceDataError(f"--from {path}: {exc.strerror or exc}") from exc
    if len(body) > MAX_BYTES:
        raise PriceDataError(f"--from {path}: larger than {MAX_BYTES // (1024 * 1024)} MB: not price data")
    return body


def parse(body: bytes, origin: str) -> tuple[Any, list[Provider]]:
    """The JSON of genai-prices' published data (a list of providers) and its providers."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PriceDataError(f"{origin}: not JSON ({exc})") from exc
    return raw, validate(raw, origin)


def validate(raw: Any, origin: str) -> list[Provider]:
    """genai-prices' providers from its published JSON, checked by genai-prices' own types (as
    its `UpdatePrices.fetch` does), or `PriceDataError` naming the first problems."""
    import pydantic
    from genai_prices.types import _providers_from_raw  # what UpdatePrices.fetch validates with

    if not isinstance(raw, list):
        raise PriceDataError(f"{origin}: expected a list of providers (genai-prices' data.json), got {_kind(raw)}")
    if not raw:
        raise PriceDataError(f"{origin}: the list of providers is empty")
    try:
        providers: list[Provider] = _providers_from_raw(raw)
    except (pydantic.ValidationError, TypeError, ValueError, KeyError) as exc:
        raise PriceDataError(f"{origin}: not genai-prices data: {_locate(raw, exc)}") from exc
    now = dt.datetime.now(dt.UTC)
    for provider in providers:
        for model in provider.models:
            where = f"{origin}: provider {provider.id!r}, model {model.id!r}"
            try:
                model.get_prices(now)
            except Exception as exc:  # a price list genai-prices itself cannot choose from
                raise PriceDataError(f"{where}: prices unusable ({type(exc).__name__}: {exc})") from exc
            for key, value in _prices(model):
                if value < 0 or not math.isfinite(float(value)):
                    raise PriceDataError(f"{where}: {key}: {value} is not a price")
    if not any(provider.models for provider in providers):
        raise PriceDataError(f"{origin}: no provider lists any model")
    return providers


def _prices(model: Any) -> Iterator[tuple[str, Decimal]]:
    """Every amount a model's prices name: each dated price, each variant, each tier."""
    from genai_prices.types import ModelPrice, TieredPrices

    sets = [model.prices] if isinstance(model.prices, ModelPrice) else [c.prices for c in model.prices]
    sets += [v.prices for v in model.price_variants or ()]
    for prices in sets:
        for key, value in vars(prices).items():
            if isinstance(value, Decimal):
                yield key, value
            elif isinstance(value, TieredPrices):
                yield key, value.base
                yield from ((key, tier.price) for tier in value.tiers)


def _kind(value: Any) -> str:
    return {dict: "an object", str: "a string", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _locate(raw: list[Any], exc: Exception) -> str:
    """What is wrong, where a person can find it: genai-prices' loader checks some parts (a
    model's prices) outside the providers' schema, so its error may not say which provider or
    model; the first failing provider, then model, is found by loading them one at a time."""
    from genai_prices.types import _providers_from_raw

    for i, provider in enumerate(raw):
        try:
            _providers_from_raw([provider])
            continue
        except Exception as one:
            exc = one
        pid = provider.get("id") if isinstance(provider, dict) else None
        where = f"provider {pid!r}" if pid else f"provider #{i}"
        models = provider.get("models") if isinstance(provider, dict) else None
        if not isinstance(models, list):
            return f"{where}: {_messages(exc, skip=1)}"
        try:
            _providers_from_raw([{**provider, "models": []}])
        except Exception as without_models:
            return f"{where}: {_messages(without_models, skip=1)}"
        for j, model in enumerate(models):
            try:
                _providers_from_raw([{**provider, "models": [model]}])
            except Exception as inner:
                mid = model.get("id") if isinstance(model, dict) else None
                return f"{where}, {f'model {mid!r}' if mid else f'model #{j}'}: {_messages(inner, skip=3)}"
        return f"{where}: {_messages(exc, skip=1)}"
    return _messages(exc, skip=0)


def _messages(exc: Exception, skip: int) -> str:
    """The first three problems of a validation error, by field path (`skip` leading parts of
    the path say the provider and model, already named)."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    seen: dict[str, str] = {}
    for err in errors():
        loc = list(err.get("loc", ()))
        loc = loc[skip:] if loc and isinstance(loc[0], int) else loc
        path = ".".join(str(p) for p in loc if isinstance(p, int) or re.fullmatch(r"[a-z][a-z0-9_]*", str(p)))
        path = re.sub(r"\.(decimal|int|float|str|list|dict|none|bool)\b", "", path)
        seen.setdefault(path, str(err.get("msg", "invalid")))
    shown = list(seen.items())[:3]
    more = len(seen) - len(shown)
    return "; ".join(f"{path}: {msg}" if path else msg for path, msg in shown) + (
        f" (and {more} more)" if more > 0 else ""
    )


def install(data_dir: Path, body: bytes, providers: list[Provider], origin: str, last_modified: str | None) -> Path:
    """Store checked data (the body exactly as published) atomically; returns its path."""
    path = data_path(data_dir)
    head = {
        "format": FORMAT,
        "origin": origin,
        "fetchedAt": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "lastModified": last_modified,
        "sha256": hashlib.sha256(body).hexdigest(),
        "validatedWith": genai_prices_version(),
        "providers": len(providers),
        "models": sum(len(p.models) for p in providers),
    }
    doc = orjson.dumps(head)[:-1] + b',"data":' + body.strip() + b"}"
    path.parent.mkdir(parents=True, exist_ok=True)
    fileio.atomic_write(path, doc)
    return path


def reset(data_dir: Path) -> bool:
    """Go back to the bundled table; False when no fetched data was in use."""
    try:
        data_path(data_dir).unlink()
    except FileNotFoundError:
        return False
    return True


@dataclass
class Change:
    """What new price data changes, compared with the data it replaces."""

    providers: tuple[int, int]
    models: tuple[int, int]
    added: list[str]  # provider/model ids new in it
    removed: list[str]
    repriced: list[str]  # models whose prices differ


def compare(old: list[Provider], new: list[Provider]) -> Change:
    def table(providers: list[Provider]) -> dict[str, str]:
        return {f"{p.id}/{m.id}": repr((m.prices, m.price_variants)) for p in providers for m in p.models}

    before, after = table(old), table(new)
    return Change(
        (len(old), len(new)),
        (len(before), len(after)),
        sorted(after.keys() - before.keys()),
        sorted(before.keys() - after.keys()),
        sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
    )
