"""A Team page (`usage/dashboard` with `scope: "team"`) without holding up the editor.

The page is built from a dozen answers; on the Team view most come from the team database
(a year of a big team's insights take a second or more), a few from this machine (the plan
limits). The language server asks the team's in its team thread and builds the page on its
loop from them:

1. `Recording`: the page is built once in the team thread over a stand-in of the service
   that asks the team database for every `scope: "team"` answer and keeps it, and answers
   this machine's questions (the ledger's: not to be touched off the loop) with a
   placeholder. That page is thrown away.
2. `Replay`: the page is built again on the loop: the team's answers are the kept ones, this
   machine's are asked as usual.

An answer the first pass did not ask for (the page changed its questions) is asked on the
loop: the page is right, only slower.
"""

from __future__ import annotations

from typing import Any

import orjson

from usage_ls.protocol import TEAM_QUESTIONS as QUESTIONS  # the service's questions taking `scope`

# this machine's questions: the ledger and its plan windows, asked on the loop only
LOCAL = frozenset(("limits", "limit_history", "refresh"))


def _key(name: str, params: Any) -> tuple[str, bytes]:
    return name, orjson.dumps(params, option=orjson.OPT_SORT_KEYS)


def _team(params: Any) -> bool:
    return isinstance(params, dict) and params.get("scope") == "team"


class Recording:
    """The service, as the team thread may use it: team answers asked and kept, this
    machine's answered with a placeholder."""

    def __init__(self, svc: Any):
        self._svc = svc
        self.answers: dict[tuple[str, bytes], Any] = {}

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._svc, name)
        if name in LOCAL:
            return lambda *args, **kwargs: {}
        if name not in QUESTIONS:
            return value

        def ask(params: Any = None, *args: Any, **kwargs: Any) -> Any:
            if not _team(params):
                return {}  # this machine's: asked on the loop (Replay)
            answer = value(params, *args, **kwargs)
            self.answers[_key(name, params)] = answer
            return answer

        return ask


class Replay:
    """The service, on the loop: team answers from a `Recording`, the rest asked as usual."""

    def __init__(self, svc: Any, answers: dict[tuple[str, bytes], Any]):
        self._svc = svc
        self._answers = answers

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._svc, name)
        if name not in QUESTIONS:
            return value

        def ask(params: Any = None, *args: Any, **kwargs: Any) -> Any:
            if _team(params) and not args and not kwargs:
                kept = self._answers.get(_key(name, params))
                if kept is not None:
                    return kept
            return value(params, *args, **kwargs)

        return ask
