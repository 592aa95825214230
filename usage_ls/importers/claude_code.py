"""Claude Code: the session transcripts it writes as JSON lines.

Format read
    `<root>/projects/<encoded cwd>/<sessionId>.jsonl`, and deeper files (`<sessionId>/subagents/
    agent-*.jsonl`): the whole tree is scanned. Roots: `$CLAUDE_CONFIG_DIR` (one path or several,
    comma-separated; each may also name its `projects/` folder), else `~/.config/claude` and
    `~/.claude`. A line carrying usage is `{timestamp, cwd, sessionId, requestId, isSidechain,
    version, costUSD?, message: {id, model, stop_reason, usage: {input_tokens, output_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, cache_creation: {ephemeral_5m_input_tokens,
    ephemeral_1h_input_tokens}, speed?}}}`, whatever its `type`; some versions also embed a
    sub-agent's messages in `progress` lines as `data.message.{timestamp, requestId,
    isSidechain, message}`. Every other line (user turns, tool results, summaries, snapshots,
    2.1's `cost-state`, `api-request`, `attachment`...) is not usage and is not even parsed.
    Checked against Claude Code 2.1.332 (tests/importers/test_real_tools.py).

Mapping
    input = `input_tokens` (Anthropic's count already excludes cache); cache reads =
    `cache_read_input_tokens`; cache writes = `cache_creation_input_tokens` (the total: behind a
    gateway the API sends no breakdown and Claude Code writes one of zeros), of which the
    breakdown's 1-hour part is `cacheWrite1hTokens` (`claude_lines.cache_writes`);
    `costUSD` (old versions) becomes the reported cost, as ccusage's default `auto` mode uses it.
    project = last segment of `cwd`; session = `sessionId`; feature = `claude-code`, plus the
    line's attribution as `key=value` words (`claude_lines.line_feature`): `agent=`
    `attributionAgent`, `skill=` `attributionSkill`, `plugin=` `attributionPlugin`, `mcp=`
    `attributionMcpServer`, and `query=subagent` for a sub-agent's line (`isSidechain`).

Dedupe key
    `message.id` + `requestId` (record id `claude-code:<message id>:<request id>`). One API
    response is written as several lines (one per content block): within a run the line with
    the most tokens wins. Sidechain lines (`isSidechain: true`, e.g. `/btw` side questions and
    sub-agents) may replay a parent message under a new request id: a sidechain line whose
    message id is already known is a duplicate, and a parent line wins over a sidechain copy.
    Message ids seen by earlier runs are remembered (64-bit hashes in
    `<data_dir>/imports-claude-code.npy`) so a replay written after the last import is still
    caught. Lines without a message id are never merged (id from the line's `uuid`).

Pitfalls handled (matching ccusage 20.0.24, checked against its binary, except cache writes)
    - `<synthetic>` lines (local API-error messages) and zero-usage lines record nothing.
    - lines are skipped, and counted unreadable, when: not JSON; the timestamp has no offset or
      does not parse; `version` is not `N.N.N…`; `sessionId`/`requestId`/`message.id`/`model` is
      an empty string; a token count is not a non-negative integer; one of the fields ccusage's
      schema reads is `null` (cwd, costUSD, version, sessionId, requestId, isApiErrorMessage,
      message.id, message.model, usage.speed, usage.cache_read_input_tokens,
      usage.cache_creation_input_tokens). ccusage tests those nulls anywhere in the line
      (so `"id":null` inside a tool's input drops a real response); we test them where they
      belong.
    - a response still being written (`_wait`): the response a file ends on is held back while
      all its lines have a null `stop_reason` (written while it streamed) and the file changed
      in the last 5 minutes, by one-shot imports too; lines without the field, by the watcher
      until the file has been quiet for a second. So the line with the final counts is the one
      kept, and a response is never imported in part.
    - transcripts are deleted after 30 days by Claude Code: import early (or watch).
    - fast mode (`usage.speed: "fast"`) is counted under the model's own name (ccusage appends
      `-fast`); its price multiplier is not applied.

Speed
    Usage lines are found by a substring search (`lines.marked_lines`); a plain assistant line
    is decoded with msgspec into just the fields read (`claude_lines.fast_entry`), anything unusual goes
    through orjson and `_entry`, which hold every check and its reason. A big one-shot import
    reads files in worker processes (`importers.parallel`): `premerge`, `prepare_candidates`,
    `merge_keys` and `merge_compact` split `merge` so that only compact keys cross between
    processes.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from usage_ls import fileio, lazy
from usage_ls.importers.base import Tool
from usage_ls.importers.claude_lines import (
    FEATURE,
    NO_USAGE,
    Entry,
    as_record,
    counts,
    fast_entry,
    new_entry,
    record_fields,
    slow_entry,
)
from usage_ls.importers.claude_merge import better, hash64, merge_rule, replays
from usage_ls.importers.lines import FileResult, marked_lines
from usage_ls.store.bulk import Prepared
from usage_ls.store.idsets import union_ids

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)

USAGE_MARK = b'"usage"'
HOLD_SECONDS = 1.0  # the live watcher: a response whose lines don't say whether it ended
OPEN_SECONDS = 300.0  # any import: a response whose lines were all written while it streamed


class ClaudeCode(Tool):
    name = "claude-code"
    feature = FEATURE
    provider = "anthropic"
    hold = True  # keep back a response still being written (False: take a file as it is now)

    def roots(self) -> list[Path]:
        env = os.environ.get("CLAUDE_CONFIG_DIR")
        if env is not None and env.strip():
            out = []
            for raw in env.split(","):
                raw = raw.strip()
                if not raw:
                    continue
                p = Path(raw).expanduser()
                out.append(p if p.name == "projects" else p / "projects")
            return out
        home = Path.home()
        xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        return [xdg / "claude" / "projects", home / ".claude" / "projects"]

    # -- one file ----------------------------------------------------------------------------

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        cwd = state.get("cwd")
        fallback_project = _project_from_path(path)
        entries = result.entries
        name = path.name
        projects: dict = {}  # cwd -> project, for this file
        last_usage_group = None  # (offset of its first line, key, index in entries)
        trailing_usage = False
        # the response the previous read ended on may go on here (a block still streaming then)
        open_group = state.get("open")
        continuing = open_group is not None
        open_key = tuple(open_group["k"]) if continuing else None
        grown = None  # its best counts seen in this read
        lines, gap_after = marked_lines(path, start, result, USAGE_MARK, final=final)
        for offset, line, gap in lines:
            if gap:  # a line that is not usage came between: a new response starts
                trailing_usage = continuing = False
            entry = fast_entry(line, cwd, fallback_project, projects)
            if entry is not None:
                cwd = entry.cwd
            else:
                entry, problem, cwd = self._slow_entry(line, offset, name, cwd, fallback_project, projects, result)
                if entry is None:
                    if problem:
                        trailing_usage = continuing = False
                    continue
            key = (entry.message_id, entry.request_id)
            if continuing and key == open_key:
                tokens = counts(entry.record)  # (a record or its `build_record` arguments)
                if grown is None or sum(tokens[:4]) > sum(grown[:4]):
                    grown = tokens
                continue
            continuing = False
            if not (trailing_usage and last_usage_group and last_usage_group[1] == key):
                last_usage_group = (offset, key, len(entries))
            trailing_usage = True
            entries.append(entry)
        if gap_after:
            trailing_usage = continuing = False
        self._finish(
            path, state, result, entries, cwd, open_group, grown, continuing, trailing_usage, last_usage_group, final
        )

    def _slow_entry(self, line, offset, name, cwd, fallback_project, projects, result):
        """orjson and `_entry`: every check, with the reason a line is skipped.
        Returns (entry or None, whether to break the current response group, cwd)."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            result.bad_at(offset, f"{name}:{offset}", f"not JSON ({exc})")
            return None, True, cwd
        if type(obj) is not dict:
            result.bad_at(offset, f"{name}:{offset}", "not a JSON object")
            return None, True, cwd
        line_cwd = obj.get("cwd")
        if type(line_cwd) is str:
            cwd = line_cwd
        entry, problem = slow_entry(obj, cwd, fallback_project, projects)
        if problem:
            if problem is not NO_USAGE:
                result.bad_at(offset, f"{name}:{offset}", problem)
            return None, True, cwd
        return entry, False, cwd

    def _finish(
        self, path, state, result, entries, cwd, open_group, grown, continuing, trailing_usage, last_usage_group, final
    ):
        new_state: dict = {"cwd": cwd} if cwd else {}
        if grown is not None:
            base = open_group["t"]
            if sum(grown[:4]) > sum(base[:4]):
                entries.append(_delta(open_group, grown))
            if continuing:  # the file still ends inside that response
                new_state["open"] = {**open_group, "t": [max(a, b) for a, b in zip(base, grown)]}
        if trailing_usage and last_usage_group is not None and entries and self.hold:
            # the response the file ends on may still be being written: keep it back (`_wait`)
            group = entries[last_usage_group[2] :]
            wait = _wait(group, final)
            try:
                quiet = not wait or os.stat(path).st_mtime < _now() - wait
            except OSError:
                quiet = True
            if not quiet:
                del entries[last_usage_group[2] :]
                result.end = last_usage_group[0]
                new_state["held"] = True
                trailing_usage = False
                if final:
                    result.left += len(group)
        if trailing_usage and last_usage_group is not None and last_usage_group[1][0] is not None:
            # remember the response the file ends on: more of it may be written later
            group = entries[last_usage_group[2] :]
            best = max(group, key=lambda e: e.total)
            rec = as_record(best.record)
            new_state["open"] = {
                "k": list(last_usage_group[1]),
                "t": counts(rec),
                "id": rec["id"],
                "ts": rec["timestamp"],
                "model": rec["model"],
                "project": rec["project"],
                "session": rec.get("session"),
                "feature": rec.get("feature") or FEATURE,
            }
        result.state = new_state

    # -- across files ------------------------------------------------------------------------

    def load_memory(self, data_dir: Path) -> dict:
        arrays = {}
        for kind in ("all", "side"):
            path = Path(data_dir) / f"imports-claude-code-{kind}.npy"
            arr = np.zeros(0, dtype=np.uint64)
            data = None
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                pass
            if data:
                try:
                    import io

                    arr = np.load(io.BytesIO(data), allow_pickle=False).astype(np.uint64)
                except Exception:
                    arr = np.zeros(0, dtype=np.uint64)
            arrays[kind] = arr
        return {**self.empty_memory(), "dir": Path(data_dir), "all": arrays["all"], "side": arrays["side"]}

    def empty_memory(self) -> dict:
        """What `merge` remembers across runs, empty: nothing imported before (and nowhere to
        save it: for reading files without importing them, e.g. `cost_check`)."""
        empty = np.zeros(0, dtype=np.uint64)
        return {"dir": None, "all": empty, "side": empty, "new_all": [], "new_side": []}

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        """ccusage's rule: same message id + request id -> one response, most tokens wins; a
        sidechain line matches any line with its message id, and a parent line wins over it.
        Then message ids known from earlier runs (a replay of a message imported before)."""
        kept, dups = self._merged(entries, memory)
        return [as_record(e.record) for e in kept], dups

    def merge_prepared(self, entries: list, memory: dict, prep) -> tuple[list, int]:
        """`merge` for a serial bulk import: each record prepared (`store.bulk.prepare`), a
        fast-path line straight to the stored form (as `prepare_candidates`), never a dict first."""
        kept, dups = self._merged(entries, memory)
        return [prepared_of(e.record, prep) for e in kept], dups

    def _merged(self, entries: list, memory: dict) -> tuple[list, int]:
        """The candidates `merge` keeps (with any tokens at all), and the duplicates."""
        kept, dups = merge_rule(entries)
        n = len(kept)
        hm = np.fromiter((hash64(e.message_id) if e.message_id is not None else 0 for e in kept), np.uint64, n)
        has_mid = np.fromiter((e.message_id is not None for e in kept), bool, n)
        side = np.fromiter((e.sidechain for e in kept), bool, n)
        replay = replays(hm, has_mid, side, memory).tolist()
        dups += sum(replay)
        return [e for e, r in zip(kept, replay) if not r and e.total], dups

    def premerge(self, entries: list) -> tuple[list, int]:
        """Lines of one response within one file (same message id, request id and sidechain
        flag: one line per content block) -> the best of them, where the first one was. `merge`
        would pick the same line from them wherever they stand."""
        best: dict[tuple, int] = {}
        out: list = []
        for e in entries:
            if e.message_id is None:
                out.append(e)
                continue
            key = (e.message_id, e.request_id, e.sidechain)
            i = best.get(key)
            if i is None:
                best[key] = len(out)
                out.append(e)
            elif better(e, out[i]):
                out[i] = e
        return out, len(entries) - len(out)

    parallel = True

    def record_of(self, entry: Entry):
        return entry.record

    def new_keys(self) -> list[list]:
        return [[], [], [], [], [], [], []]

    def prepare_candidates(self, entries: list, prep, out: list, keys: list[list]) -> None:
        """Each candidate with its record prepared (`store.bulk.prepare`: checked, priced, in
        stored form) appended to `out`, and what `merge` reads of it appended to `keys` (see
        `merge_keys`). A fast-path record goes straight to the stored form when plain."""
        hmid, has_mid, hrid, sides, totals, costs, hid = keys
        for mid, rid, side, total, rec, cost, *_rest in entries:  # runs per candidate
            done = prepared_of(rec, prep)
            out.append(new_entry(Entry, (mid, rid, side, total, done, cost, None, None)))
            hmid.append(hash64(mid) if mid is not None else 0)
            has_mid.append(mid is not None)
            hrid.append(hash(rid) if rid is not None else 0)
            sides.append(side)
            totals.append(total)
            costs.append(np.nan if cost is None else cost)
            hid.append(done.hash if type(done) is Prepared else 0)

    def merge_keys(self, keys: list[list]) -> tuple:
        """What `merge` reads of each candidate, as numpy columns: message id hash (stable,
        also what `load_memory` keeps), whether there is one, request id hash, sidechain flag,
        total tokens, reported cost (NaN: none), and the record id's ledger hash (0: the record
        did not validate), from what `prepare_candidates` noted."""
        hmid, has_mid, hrid, side, total, cost, hid = keys
        return (
            np.array(hmid, dtype=np.uint64),
            np.array(has_mid, dtype=bool),
            np.array(hrid, dtype=np.int64),
            np.array(side, dtype=bool),
            np.array(total, dtype=np.int64),
            np.array(cost, dtype=np.float64),
            np.array(hid, dtype=np.uint64),
        )

    def merge_compact(self, keys: list[tuple], memory: dict) -> tuple[np.ndarray, np.ndarray, int]:
        """`merge` over the keys of several workers' candidates (in order): (indices of the
        kept candidates, their record id hashes, duplicates). Only candidates whose message id
        occurs more than once go through the rule (request ids compared by Python's string
        hash, the same in every worker forked from one parent); the rest is done in numpy."""
        hmid, has_mid, hrid, side, total, cost, hid = (np.concatenate(c) for c in zip(*keys))
        n = len(hmid)
        with_mid = np.flatnonzero(has_mid)
        _u, inverse, occurrences = np.unique(hmid[with_mid], return_inverse=True, return_counts=True)
        contested = with_mid[occurrences[inverse] > 1]
        keep = np.ones(n, dtype=bool)
        keep[contested] = False
        costs = [None if c != c else c for c in cost[contested].tolist()]
        rows = zip(
            hmid[contested].tolist(),
            hrid[contested].tolist(),
            side[contested].tolist(),
            total[contested].tolist(),
            contested.tolist(),
            costs,
        )
        winners, dups = merge_rule(list(itertools.starmap(Entry, rows)))  # record: the candidate's index
        keep[[w.record for w in winners]] = True
        kept = np.flatnonzero(keep)
        replay = replays(hmid[kept], has_mid[kept], side[kept], memory)
        dups += int(replay.sum())
        keep[kept[replay]] = False
        index = np.flatnonzero(keep & (total > 0))  # and any tokens at all
        return index, hid[index], dups

    def records_done(self, memory: dict) -> None:
        for kind in ("all", "side"):
            new = memory[f"new_{kind}"]
            if not new:
                continue
            merged = union_ids(memory[kind], np.array(new, dtype=np.uint64))
            import io

            buf = io.BytesIO()
            np.save(buf, merged, allow_pickle=False)
            fileio.atomic_write(memory["dir"] / f"imports-claude-code-{kind}.npy", buf.getvalue())
            memory[kind] = merged
            memory[f"new_{kind}"] = []


def prepared_of(rec, prep):
    """`prep` (`store.bulk.prepare`) of a candidate's record: a fast-path line's fields (a tuple)
    straight to the stored form when they are plain (`prep.fields`), else through the record."""
    if type(rec) is tuple:
        fields = getattr(prep, "fields", None)
        done = fields(*record_fields(*rec)) if fields is not None else None
        if done is not None:
            return done
    return prep(as_record(rec))


def _delta(group: dict, grown: list[int]):
    """A response imported while still streaming grew since: record what it added, on the
    response's own timestamp, so the ledger holds its final counts (as ccusage counts them)."""
    d = [max(0, a - b) for a, b in zip(grown, group["t"])]
    d[4] = min(d[4], d[3])
    rec = {
        "id": f"{group['id']}:+{sum(grown[:4])}"[:200],
        "timestamp": group["ts"],
        "model": group["model"],
        "provider": "anthropic",
        "project": group["project"],
        "inputTokens": d[0],
        "outputTokens": d[1],
        "cacheReadTokens": d[2],
        "cacheWriteTokens": d[3],
        "cacheWrite1hTokens": d[4],
        "feature": group.get("feature") or FEATURE,
    }
    if group.get("session"):
        rec["session"] = group["session"]
    return Entry(None, None, False, sum(d[:4]), rec, None)


def _wait(group: list, final: bool) -> float:
    """How long the file must have been quiet before the response it ends on (`group`, its
    lines) is taken. None, when a line has a `stop_reason`: written once the response ended,
    its counts are final (Claude Code 2.1 writes every line so). `OPEN_SECONDS` when every
    line's `stop_reason` is null: written while the response streamed (older versions wrote a
    line per content block as it ended), so more lines with higher counts are due; taking them
    now would leave the rest to a second record (`_delta`). Lines that don't say: the live
    watcher waits a second, a one-shot import takes them."""
    if any(e.done for e in group):
        return 0.0
    if any(e.done is False for e in group):
        return OPEN_SECONDS
    return 0.0 if final else HOLD_SECONDS


def _now() -> float:
    import time

    return time.time()


def _project_from_path(path: Path) -> str:
    parts = path.parts
    try:
        i = len(parts) - 1 - parts[::-1].index("projects")
        encoded = parts[i + 1]
    except (ValueError, IndexError):
        return "(no project)"
    return encoded.rstrip("-").rsplit("-", 1)[-1] or encoded
