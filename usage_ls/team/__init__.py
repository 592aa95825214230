"""Team usage on PostgreSQL (docs/team.md): the local ledger stays the source of truth, and
every machine pushes its records into one database where the team's numbers meet.

- `secrets.py`: connection strings and messages with every password masked (a leaf);
- `state.py`: what this data directory keeps about syncing: its device id, the durable push
  cursor and the last outcome (`sync/` in the data directory);
- `schema.py`: the versioned migrations (tables partitioned by month, the daily rollup kept
  in step by a trigger) and the least-privilege roles;
- `db.py`: connecting (libpq's conventions: the connection string, PG* variables, ~/.pgpass,
  a service file) with time limits, and the errors said without secrets;
- `push.py`: one push: the records past the cursor, in batches, idempotent by record id;
- `worker.py`: `usage-ls sync --worker`, the server's push worker (one kept connection);
- `background.py`: when a server pushes (a thread), and its worker child;
- `scope.py`: which methods answer `scope: "team"`, and how;
- `query.py`: `scope: "team"` answers from the rollup (totals, days, weeks, months);
- `records.py`: those from the records (interactions, sessions, attribution);
- `tools.py`: those by tool (`tool`, `byTool`, `usage/tools`), from the records;
- `insights.py`: the team's insights (burn rate, projection, day spikes, spike tips);
- `sync_note.py`: the sync state in the status-bar tooltip;
- `command.py`: `usage-ls sync`.
"""
