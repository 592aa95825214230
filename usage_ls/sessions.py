"""`usage-ls report session <id>`: one session's usage, and for a Claude Code session its own
cost next to ours.

The ledger's records of the session, per model, come from the days it spans (read as columns,
`Ledger.day_columns`; with `--team`, the team database's records of the session, as columns
too); for a Claude Code session the transcript's `cost-state` is checked
against ours (`importers.cost_check`), which also tells which days to read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from usage_ls import days
from usage_ls.model import TOKEN_FIELDS
from usage_ls.queries import Filter
from usage_ls.store.columns import RecordColumns

DEFAULT_DAYS = 30  # looked back over when the session's days are not known


def session_report(svc, session: str, start: str | None = None, end: str | None = None, team: bool = False) -> dict:
    """{"session", "from", "to", "features", "projects", "models": [{"model", "messages",
    tokens, "costUsd", "unpricedMessages"}], "messages", "costUsd", "toolCost": the
    cost-state check or None}. Days: `start`..`end` when given, else the days the session's
    transcript spans, else the last 30 days. With `team`, the records are the team database's
    (every machine's, each once; days are the recording machines'); the transcript, when
    this machine has it, is checked as locally."""
    from usage_ls.importers import cost_check

    svc.refresh()
    check = None
    transcript = cost_check.find_transcript(Path(svc.cfg.data_dir), session)
    if transcript is not None:
        check = cost_check.check_session(transcript, svc.pricer)
    if start is None and check is not None and check["from"] is not None:
        start, end = days.day_of(check["from"], svc.tz), end or days.day_of(check["to"], svc.tz)
    end = end or svc.today()
    start = start or days.shift(end, -(DEFAULT_DAYS - 1))
    if team:  # every machine's records of the session, each once (team/records.py)
        from usage_ls.team import records

        found = records.columns(svc.team_db(), Filter(start, end), " AND session = %s", (session,))
        cols, model_names, project_names = found.cols, found.models.names, found.projects.names
    else:
        ledger, parts = svc.ledger, []
        for day in days.day_range(start, end):
            day_cols = ledger.day_columns(day)
            if len(day_cols):
                parts.append(day_cols.take(np.fromiter((s == session for s in day_cols.sessions), dtype=bool)))
        cols, model_names, project_names = RecordColumns.concat(parts), ledger.models.names, ledger.projects.names
    rows: dict[str, dict] = {}
    features: set[str] = set()
    projects: set[str] = set()
    for i in range(len(cols)):
        model = model_names[int(cols.model[i])]
        row = rows.get(model)
        if row is None:
            row = rows[model] = {"model": model, "messages": 0, **dict.fromkeys(TOKEN_FIELDS, 0)}
            row.update(costUsd=0.0, unpricedMessages=0)
        row["messages"] += 1
        for k, n in zip(TOKEN_FIELDS, cols.tokens[:, i].tolist()):
            row[k] += n
        cost = float(cols.cost[i])
        if cost != cost:
            row["unpricedMessages"] += 1
        else:
            row["costUsd"] += cost
        _date, _provider, feature, _session = cols.extra[i]
        if feature:
            features.add(feature.split(" ", 1)[0])  # the tool, not its attribution words
        projects.add(project_names[int(cols.project[i])])
    models = sorted(rows.values(), key=lambda r: -r["costUsd"])
    for r in models:
        r["totalTokens"] = sum(r[k] for k in TOKEN_FIELDS[:4])
        r["costUsd"] = round(r["costUsd"], 10)
        r["baseModel"] = cost_check.base_model(r["model"])  # as Claude Code's cost-state names it
    return {
        "session": session,
        "from": start,
        "to": end,
        "features": sorted(features),
        "projects": sorted(projects),
        "models": models,
        "messages": sum(r["messages"] for r in models),
        "costUsd": round(sum(r["costUsd"] for r in models), 10),
        "toolCost": check,
    }
