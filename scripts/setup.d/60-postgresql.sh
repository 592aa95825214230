#!/usr/bin/env bash
# PostgreSQL for the team-sync tests (tests/team/): Debian's `postgresql` package gives the
# server binaries (initdb, pg_ctl, postgres under /usr/lib/postgresql/<major>/bin). The tests
# start a throwaway cluster of their own in a temp folder; no system cluster is started here.
# Idempotent and quick: does nothing when the package is installed.
set -euo pipefail

if ! dpkg -s postgresql >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  # the package's postinst would create and start a `main` cluster: the tests need none
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/50-usage-ls-no-main.conf
  source "$(dirname "$0")/../apt.sh"
  apt_install 60-postgresql postgresql
fi

ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1 | xargs -I{} sh -c '"{}/postgres" --version' >&2
