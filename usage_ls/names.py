"""Default names usage-ls finds rather than the user sets (a workspace folder's, the login's),
held to the record rules (`model.check_name`). Kept apart from `service` so that a command that
only writes (`usage-ls import`) settles its user without loading the query side."""

from __future__ import annotations

from usage_ls.config import Config, login_name
from usage_ls.model import MAX_NAME, RecordError, check_name


def default_name(value: str | None, field: str, source: str) -> tuple[str | None, str | None]:
    """A name usage-ls found rather than one the user set (`source`: a workspace folder's, the
    login's), as the default `field` of records. The record rules (`model.check_name`) hold:
    a name they refuse is repaired (each control character shown as "?", as `ls` shows it; cut
    to `MAX_NAME` characters) and comes with a message naming `field`, once for its caller to
    tell. None when nothing usable is left (the caller's own default applies)."""
    if not value:
        return None, None
    try:
        return check_name(value, field), None
    except RecordError as exc:
        problem = f"{field}: {source} {exc.message}"
    shown = "".join("?" if ch < " " or ch == "\x7f" else ch for ch in value.strip())
    repaired = shown[:MAX_NAME].strip()
    try:
        name = check_name(repaired, field)
    except RecordError:
        return None, f"{problem}; it is not used"
    how = ['with each control character shown as "?"'] if shown != value.strip() else []
    how += [f"cut to {MAX_NAME} characters"] if len(shown) > MAX_NAME else []
    return name, f"{problem}; records that name no {field} get it {' and '.join(how) or 'trimmed'}"


def settle_user(cfg: Config) -> None:
    """Hold the default user (`user` in config.toml, else the login name) to the record rules:
    a configured one they refuse is reported in `cfg.errors` and the login name used; a login
    name they refuse is repaired (`default_name`), else "me"."""
    try:
        cfg.user = check_name(cfg.user, "user")
        return
    except RecordError as exc:
        login = login_name()
        if cfg.user != login:
            cfg.errors.append(f"user: {exc.message}; using the login name")
    name, problem = default_name(login, "user", "the login name")
    if problem:
        cfg.errors.append(f"{problem} (`user` in config.toml sets one)")
    cfg.user = name or "me"
