"""The team database's schema, created and migrated by usage-ls, and its roles.

Everything lives in the schema `usage_ls`. `schema_version` lists the migrations applied; a
client refuses (and writes nothing to) a database whose version is newer than the ones it
knows. Migrations run in one transaction under an advisory lock, so two machines starting at
once migrate once.

Version 1:
- `record_ids`: every record id ever pushed (primary key): the same Claude Code log imported
  on two machines counts once, whichever pushes first;
- `records`: the records, partitioned by month of their day (`records_YYYY_MM`, created on
  demand by `add_months`, a SECURITY DEFINER function: writers cannot create tables), each
  with its user and the device (data directory) that pushed it;
- `daily`: totals per day × user × project × model × billing, kept in step with `records` by
  a statement-level trigger over the inserted rows (SECURITY DEFINER as well: writers cannot
  update it), so team queries never scan records. Money is `numeric`: sums are exact.

Version 2 (`RLS`): row-level security. A member's login reads and inserts only the raw
records of its own usage-ls user (`members` maps a login to a user; a login without a row is
the user of its own name), and claims record ids only under its own login; `daily`, the
team's totals, stays readable to every member; members of `usage_ls_reader` read everything.
The policies apply to every role but the owner and superusers (no `TO` clause: the roles need
not exist when the schema is made); the GRANTs of `roles_sql` still decide who may touch a
table at all.

Version 3: an index on `records (ts)`, so the team's interactions page by time.

Version 4 (`V_DAILY_MODELS`): `daily_models`, the totals per day × model × billing kept by the
same trigger (team queries without a user or project filter read it), and indexes on `daily`
by user and by project (with every column the queries read).

Version 5 (`V_DAILY_USERS_PROJECTS`): `daily_users` (day × user × model × billing) and
`daily_projects` (day × project × model × billing), kept by the same trigger in the same
transaction and filled from `daily`: team queries filtered by one user or one project read
them (a year is ~3,000 rows of that person or project, not ~10,000 to add up).
"""

from __future__ import annotations

from typing import Any

from usage_ls.team.db import TeamError

SCHEMA = "usage_ls"
WRITER, READER = "usage_ls_writer", "usage_ls_reader"
_METRIC_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)
# every rollup's summed columns, in the order of store.rollup.METRICS (query.py reads them so)
ROLLUP_COLUMNS = ("messages", *_METRIC_COLUMNS, "cost_usd", "credits", "unpriced_messages")

V1 = f"""
CREATE TABLE usage_ls.meta (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    database_id uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO usage_ls.meta DEFAULT VALUES;

CREATE TABLE usage_ls.record_ids (id text PRIMARY KEY);

CREATE TABLE usage_ls.records (
    id text NOT NULL,
    day date NOT NULL,
    ts timestamptz NOT NULL,
    "user" text NOT NULL,
    device_id text NOT NULL,
    project text NOT NULL,
    model text NOT NULL,
    provider text,
    billing text NOT NULL CHECK (billing IN ('premium', 'byok')),
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cache_read_tokens bigint NOT NULL,
    cache_write_tokens bigint NOT NULL,
    cache_write_1h_tokens bigint NOT NULL,
    cost_usd numeric,
    credits numeric,
    cost_source text,
    feature text,
    session text,
    pushed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, day)
) PARTITION BY RANGE (day);

CREATE TABLE usage_ls.daily (
    day date NOT NULL,
    "user" text NOT NULL,
    project text NOT NULL,
    model text NOT NULL,
    billing text NOT NULL,
    messages bigint NOT NULL,
    {", ".join(f"{c} bigint NOT NULL" for c in _METRIC_COLUMNS)},
    cost_usd numeric NOT NULL,
    credits numeric NOT NULL,
    unpriced_messages bigint NOT NULL,
    PRIMARY KEY (day, "user", project, model, billing)
);

CREATE FUNCTION usage_ls.roll_up() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO usage_ls.daily AS d
        (day, "user", project, model, billing, messages, {", ".join(_METRIC_COLUMNS)},
         cost_usd, credits, unpriced_messages)
    SELECT day, "user", project, model, billing, count(*),
           {", ".join(f"sum({c})" for c in _METRIC_COLUMNS)},
           coalesce(sum(cost_usd), 0), coalesce(sum(credits), 0), count(*) FILTER (WHERE cost_usd IS NULL)
    FROM new_rows
    GROUP BY day, "user", project, model, billing
    ORDER BY day, "user", project, model, billing
    ON CONFLICT (day, "user", project, model, billing) DO UPDATE SET
        messages = d.messages + excluded.messages,
        {", ".join(f"{c} = d.{c} + excluded.{c}" for c in _METRIC_COLUMNS)},
        cost_usd = d.cost_usd + excluded.cost_usd,
        credits = d.credits + excluded.credits,
        unpriced_messages = d.unpriced_messages + excluded.unpriced_messages;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION usage_ls.roll_up() FROM PUBLIC;

CREATE TRIGGER records_roll_up AFTER INSERT ON usage_ls.records
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_ls.roll_up();

CREATE FUNCTION usage_ls.add_months(days date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m date;
    part text;
BEGIN
    FOR m IN SELECT DISTINCT date_trunc('month', d)::date FROM unnest(days) AS d LOOP
        part := 'records_' || to_char(m, 'YYYY_MM');
        IF to_regclass('usage_ls.' || part) IS NULL THEN
            BEGIN
                EXECUTE format('CREATE TABLE usage_ls.%I PARTITION OF usage_ls.records FOR VALUES FROM (%L) TO (%L)',
                               part, m, (m + interval '1 month')::date);
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL;  -- another machine made it at the same moment
            END;
        END IF;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION usage_ls.add_months(date[]) FROM PUBLIC;
"""

# Row-level security (docs/team.md "Privileges"). The policies' functions run as the owner
# (SECURITY DEFINER: members need no access to `members` or pg_roles' memberships) and are
# called as `(SELECT f())`: an init plan, evaluated once per statement, not once per row.
RLS = f"""
CREATE TABLE usage_ls.members (
    login text PRIMARY KEY,
    "user" text NOT NULL CHECK ("user" <> '')
);
REVOKE ALL ON usage_ls.members FROM PUBLIC;

CREATE FUNCTION usage_ls.member_user() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT "user" FROM usage_ls.members WHERE login = session_user::text), session_user::text)
$$;

CREATE FUNCTION usage_ls.reads_everything() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}' AND pg_has_role(session_user, oid, 'MEMBER'))
$$;

ALTER TABLE usage_ls.record_ids ADD COLUMN pushed_by text NOT NULL DEFAULT '';
ALTER TABLE usage_ls.record_ids ALTER COLUMN pushed_by SET DEFAULT session_user;

ALTER TABLE usage_ls.records ENABLE ROW LEVEL SECURITY;
CREATE POLICY records_read ON usage_ls.records FOR SELECT
    USING ("user" = (SELECT usage_ls.member_user()) OR (SELECT usage_ls.reads_everything()));
CREATE POLICY records_insert ON usage_ls.records FOR INSERT
    WITH CHECK ("user" = (SELECT usage_ls.member_user()));

ALTER TABLE usage_ls.record_ids ENABLE ROW LEVEL SECURITY;
CREATE POLICY record_ids_read ON usage_ls.record_ids FOR SELECT
    USING (pushed_by = session_user::text OR (SELECT usage_ls.reads_everything()));
CREATE POLICY record_ids_insert ON usage_ls.record_ids FOR INSERT
    WITH CHECK (pushed_by = session_user::text);
"""

# Version 3: `usage/interactions` with `scope: "team"` pages the records of a range by time,
# newest first: an index on `ts` (made on every month's partition, and by PostgreSQL on each
# new one) answers a page without sorting the range's records.
RECORDS_TS = "CREATE INDEX IF NOT EXISTS records_ts ON usage_ls.records (ts)"

MIGRATIONS: dict[int, str] = {1: V1, 2: RLS, 3: RECORDS_TS}

# (teambench) `daily_models`: totals per day × model × billing, kept by the same trigger. A year
# of a busy team's `daily` is ~170,000 rows (20 people × 3 projects × 8 models a day), too many
# to add up within 50 ms; without a user or project filter, team queries read this table
# instead (~3,000 rows a year). With one, an index on `daily` by user (or project) and day that
# holds every column (an index-only scan: one person's rows are together, not on every page).
_UPSERT_MODELS = f"""
    INSERT INTO usage_ls.daily_models AS d
        (day, model, billing, messages, {", ".join(_METRIC_COLUMNS)}, cost_usd, credits, unpriced_messages)
    SELECT day, model, billing, count(*), {", ".join(f"sum({c})" for c in _METRIC_COLUMNS)},
           coalesce(sum(cost_usd), 0), coalesce(sum(credits), 0), count(*) FILTER (WHERE cost_usd IS NULL)
    FROM new_rows
    GROUP BY day, model, billing
    ORDER BY day, model, billing
    ON CONFLICT (day, model, billing) DO UPDATE SET
        messages = d.messages + excluded.messages,
        {", ".join(f"{c} = d.{c} + excluded.{c}" for c in _METRIC_COLUMNS)},
        cost_usd = d.cost_usd + excluded.cost_usd,
        credits = d.credits + excluded.credits,
        unpriced_messages = d.unpriced_messages + excluded.unpriced_messages;"""
_DAILY_REST = f"model, billing, messages, {', '.join(_METRIC_COLUMNS)}, cost_usd, credits, unpriced_messages"
_ROLL_UP_V1 = V1[V1.index("CREATE FUNCTION usage_ls.roll_up()") : V1.index("REVOKE ALL ON FUNCTION usage_ls.roll_up()")]
V_DAILY_MODELS = f"""
CREATE TABLE usage_ls.daily_models (
    day date NOT NULL,
    model text NOT NULL,
    billing text NOT NULL,
    messages bigint NOT NULL,
    {", ".join(f"{c} bigint NOT NULL" for c in _METRIC_COLUMNS)},
    cost_usd numeric NOT NULL,
    credits numeric NOT NULL,
    unpriced_messages bigint NOT NULL,
    PRIMARY KEY (day, model, billing)
);
INSERT INTO usage_ls.daily_models
SELECT day, model, billing, sum(messages), {", ".join(f"sum({c})" for c in _METRIC_COLUMNS)},
       sum(cost_usd), sum(credits), sum(unpriced_messages)
FROM usage_ls.daily GROUP BY day, model, billing;
CREATE INDEX daily_user_day ON usage_ls.daily ("user", day) INCLUDE (project, {_DAILY_REST});
CREATE INDEX daily_project_day ON usage_ls.daily (project, day) INCLUDE ("user", {_DAILY_REST});
{_ROLL_UP_V1.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace("    RETURN NULL;", _UPSERT_MODELS + chr(10) + "    RETURN NULL;")}
DO $$ BEGIN  -- roles made before this version read the new table too
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER}') THEN
        GRANT SELECT ON usage_ls.daily_models TO {WRITER};
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
        GRANT SELECT ON usage_ls.daily_models TO {READER};
    END IF;
END $$;
"""
MIGRATIONS[max(MIGRATIONS) + 1] = V_DAILY_MODELS

_ROLLUP_SUMS = (
    f"count(*), {', '.join(f'sum({c})' for c in _METRIC_COLUMNS)}, "
    "coalesce(sum(cost_usd), 0), coalesce(sum(credits), 0), count(*) FILTER (WHERE cost_usd IS NULL)"
)
_ROLLUP_METRICS = ("messages", *_METRIC_COLUMNS, "cost_usd", "credits", "unpriced_messages")
_ROLLUP_ADD = ",\n        ".join(f"{c} = d.{c} + excluded.{c}" for c in _ROLLUP_METRICS)


def _upsert(table: str, key: str) -> str:
    """The trigger's statement adding the inserted rows (`new_rows`) to one rollup keyed by
    `key` (its primary key's columns, in their order: rows are locked in that order, so two
    pushes at once cannot deadlock)."""
    return f"""
    INSERT INTO usage_ls.{table} AS d ({key}, {", ".join(_ROLLUP_METRICS)})
    SELECT {key}, {_ROLLUP_SUMS}
    FROM new_rows
    GROUP BY {key}
    ORDER BY {key}
    ON CONFLICT ({key}) DO UPDATE SET
        {_ROLLUP_ADD};"""


# (team-daily) `daily_users` and `daily_projects`: totals per day × user (project) × model ×
# billing, kept by the same trigger in the same transaction. With a user or project filter a
# year was a GROUP BY of that person's ~9,000-12,000 rows of `daily` into day × model groups
# (12-64 ms inside PostgreSQL under load); these hold one person's (project's) year in ~3,000
# rows, already per day × model × billing, read in key order from the primary key. Both a user
# and a project still read `daily` (its index by user and day: that person's rows, filtered).
_ROLLUPS = (  # table, primary key (what a query filters on first), in the order the trigger writes them
    ("daily", 'day, "user", project, model, billing'),
    ("daily_models", "day, model, billing"),
    ("daily_users", '"user", day, model, billing'),
    ("daily_projects", "project, day, model, billing"),
)
_ROLLUP_COLUMNS = f"""messages bigint NOT NULL,
    {", ".join(f"{c} bigint NOT NULL" for c in _METRIC_COLUMNS)},
    cost_usd numeric NOT NULL,
    credits numeric NOT NULL,
    unpriced_messages bigint NOT NULL"""
V_DAILY_USERS_PROJECTS = f"""
CREATE TABLE usage_ls.daily_users (
    "user" text NOT NULL,
    day date NOT NULL,
    model text NOT NULL,
    billing text NOT NULL,
    {_ROLLUP_COLUMNS},
    PRIMARY KEY ("user", day, model, billing)
);
CREATE TABLE usage_ls.daily_projects (
    project text NOT NULL,
    day date NOT NULL,
    model text NOT NULL,
    billing text NOT NULL,
    {_ROLLUP_COLUMNS},
    PRIMARY KEY (project, day, model, billing)
);
INSERT INTO usage_ls.daily_users ("user", day, {_DAILY_REST})
SELECT "user", day, model, billing, sum(messages), {", ".join(f"sum({c})" for c in _METRIC_COLUMNS)},
       sum(cost_usd), sum(credits), sum(unpriced_messages)
FROM usage_ls.daily GROUP BY "user", day, model, billing ORDER BY "user", day, model, billing;
INSERT INTO usage_ls.daily_projects (project, day, {_DAILY_REST})
SELECT project, day, model, billing, sum(messages), {", ".join(f"sum({c})" for c in _METRIC_COLUMNS)},
       sum(cost_usd), sum(credits), sum(unpriced_messages)
FROM usage_ls.daily GROUP BY project, day, model, billing ORDER BY project, day, model, billing;
ANALYZE usage_ls.daily_users;
ANALYZE usage_ls.daily_projects;
CREATE OR REPLACE FUNCTION usage_ls.roll_up() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN{"".join(_upsert(table, key) for table, key in _ROLLUPS)}
    RETURN NULL;
END $$;
DO $$ BEGIN  -- roles made before this version read the new tables too
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER}') THEN
        GRANT SELECT ON usage_ls.daily_users, usage_ls.daily_projects TO {WRITER};
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
        GRANT SELECT ON usage_ls.daily_users, usage_ls.daily_projects TO {READER};
    END IF;
END $$;
"""
MIGRATIONS[max(MIGRATIONS) + 1] = V_DAILY_USERS_PROJECTS
LATEST = max(MIGRATIONS)
RLS_VERSION = next(version for version, sql in MIGRATIONS.items() if sql is RLS)


def prepare(conn: Any, *, migrate: bool = True) -> str:
    """Check (and create or migrate, when allowed) the schema; the database's id. Raises
    TeamError, having written nothing, when the schema is newer than this client knows, or
    missing/older and this connection may not create it."""
    import psycopg

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('usage_ls schema'))")
        exists = conn.execute("SELECT to_regclass('usage_ls.schema_version') IS NOT NULL").fetchone()[0]
        current = 0
        if exists:
            current = conn.execute("SELECT coalesce(max(version), 0) FROM usage_ls.schema_version").fetchone()[0]
        if current > LATEST:
            raise TeamError(
                f"the team database's schema is version {current}, newer than this usage-ls knows ({LATEST}): "
                "upgrade usage-ls on this machine; nothing was written"
            )
        if current < LATEST:
            if not migrate:
                if current == 0:
                    raise TeamError(
                        "the team database has no usage-ls schema yet: `usage-ls sync` makes it (docs/team.md)"
                    )
                raise TeamError(
                    f"the team database's schema is version {current}, this usage-ls needs {LATEST}: `usage-ls sync`"
                )
            try:
                with conn.transaction():
                    _migrate(conn, current)
            except psycopg.errors.InsufficientPrivilege:
                raise TeamError(
                    f"the team database's schema is version {current} and this role may not "
                    f"{'create' if current == 0 else 'migrate'} it (version {LATEST}): connect once as the "
                    "database's owner (`usage-ls sync` with the owner's connection string), see docs/team.md"
                ) from None
        row = conn.execute("SELECT database_id::text FROM usage_ls.meta").fetchone()
        return str(row[0])


def _migrate(conn: Any, current: int) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS usage_ls")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS usage_ls.schema_version ("
        "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for version in range(current + 1, LATEST + 1):
        conn.execute(MIGRATIONS[version])
        conn.execute("INSERT INTO usage_ls.schema_version (version) VALUES (%s)", (version,))


def roles_sql() -> str:
    """The least-privilege roles, as SQL a database owner runs (`usage-ls sync --init-roles`)."""
    return f"""\
-- usage-ls team roles (schema version {LATEST}); run as the owner of the usage_ls schema.
-- Writers push records: they may insert and read, never update or delete; the daily rollup is
-- kept by a trigger that runs as the schema's owner. Readers (dashboards, reports) may only read.
-- Row-level security (made with the schema): a writer reads and inserts only the records of its
-- own usage-ls user and reads every user's daily totals; a reader reads every record.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER}') THEN CREATE ROLE {WRITER} NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN CREATE ROLE {READER} NOLOGIN; END IF;
END $$;
REVOKE ALL ON SCHEMA usage_ls FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA usage_ls FROM PUBLIC;
GRANT USAGE ON SCHEMA usage_ls TO {WRITER}, {READER};
GRANT SELECT ON usage_ls.schema_version, usage_ls.meta, usage_ls.daily TO {WRITER}, {READER};
GRANT SELECT ON usage_ls.records TO {READER};
GRANT SELECT, INSERT ON usage_ls.records, usage_ls.record_ids TO {WRITER};
GRANT EXECUTE ON FUNCTION usage_ls.add_months(date[]) TO {WRITER};
GRANT SELECT ON usage_ls.daily_models, usage_ls.daily_users, usage_ls.daily_projects TO {WRITER}, {READER};
DO $$ BEGIN  -- a push COPYs each batch into a temporary table first
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {WRITER}', current_database());
END $$;
-- one login per person, a member of one of the roles, e.g.:
--   CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE {WRITER};
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE {READER};
-- Row-level security, made with the schema (version {RLS_VERSION}), for every role but the owner and superusers:
{_policies()}
-- a login is the usage-ls user of its own name (`user = "alice"` in config.toml); a login named
-- otherwise (or a second login of one person) is mapped to its user:
--   INSERT INTO usage_ls.members (login, "user") VALUES ('alice_laptop', 'alice');
"""


def _policies() -> str:
    """The RLS step's policies, as comments in the roles' SQL: what a DBA reviews."""
    lines, policy = [], False
    for line in RLS.splitlines():
        policy = line.startswith("CREATE POLICY") or (policy and line.startswith(" "))
        if policy:
            lines.append(f"--   {line.strip()}")
    return "\n".join(lines)


def refusal_hint(exc: BaseException) -> str:
    """What to do when row-level security refused a push: the records' user is not the login's."""
    text = str(exc)
    if "row-level security" not in text:
        return ""
    return (
        " (this login may push only its own user's records: set `user` in config.toml to the login's user,"
        ' or map the login: INSERT INTO usage_ls.members (login, "user") …; docs/team.md)'
    )
