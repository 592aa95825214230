"""What the team's budgets and other people's have used, read from the team database without
ever making the editor wait.

A `TeamTotals` keeps the last answer (credits and cost per user × billing, today and this
month, from the daily rollup) for `MAX_AGE` seconds. A language server reads it in the
background (`wait=False`): a budget shows the last answer, or says it is unavailable (not read
yet, or the database's error), and `on_change` is called from the reading thread when a new
answer differs, so the server redraws the status bar and checks the alerts. A command
(`usage-ls insights`, the dashboard) waits for the answer (`wait=True`, at most the connection's
time limit); a failure is kept as long as an answer, so it waits once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from usage_ls.team import query
from usage_ls.team.db import TeamError

MAX_AGE = 60.0
NOT_YET = "not read from the team database yet"

Used = dict[tuple[str | None, str, str], float]  # (user or None: everyone, billing, "today"/"month") -> value


@dataclass
class Answer:
    period: tuple[str, str]  # (month start, today)
    at: float
    credits: Used = field(default_factory=dict)
    cost: Used = field(default_factory=dict)
    error: str | None = None


class TeamTotals:
    def __init__(self, conninfo: str, *, wait: bool = True):
        self.reader = query.Reader(conninfo)
        self.wait = wait
        self.on_change: Callable[[], None] | None = None
        self.answer: Answer | None = None
        self.generation = 0  # moves with every answer that differs from the one before
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def used(self, start: str, today: str) -> Answer | str:
        """The current answer for the month from `start` to `today`, or why there is none."""
        period = (start, today)
        answer = self.answer
        if answer is None or answer.period != period or time.monotonic() - answer.at >= MAX_AGE:
            if self.wait:
                self.read(period)
                answer = self.answer
            else:
                self.poll(period)
        if answer is None or answer.period != period:
            return NOT_YET
        return answer.error if answer.error is not None else answer

    def poll(self, period: tuple[str, str]) -> None:
        """Read again in a thread when the answer is missing or old (never waits)."""
        answer = self.answer
        if answer is not None and answer.period == period and time.monotonic() - answer.at < MAX_AGE:
            return
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self.read, args=(period,), name="usage-ls team budgets", daemon=True)
            self.thread.start()

    def read(self, period: tuple[str, str]) -> None:
        answer = Answer(period, time.monotonic())
        try:
            for user, billing, today, credits, cost in query.budget_totals(self.reader, *period):
                for who in (user, None):
                    for when in ("month", "today") if today else ("month",):
                        key = (who, billing, when)
                        answer.credits[key] = answer.credits.get(key, 0.0) + credits
                        answer.cost[key] = answer.cost.get(key, 0.0) + cost
        except TeamError as exc:
            answer.error = str(exc)
        except Exception as exc:  # anything else the driver raises: said, the editor never sees a trace
            answer.error = f"the team database did not answer: {type(exc).__name__}"
        before = self.answer
        self.answer = answer
        same = before is not None and (before.period, before.credits, before.cost, before.error) == (
            answer.period,
            answer.credits,
            answer.cost,
            answer.error,
        )
        if not same:
            self.generation += 1
            if self.on_change is not None:
                self.on_change()

    def close(self) -> None:
        if self.thread is None or not self.thread.is_alive():  # a read under way holds the reader: never wait for it
            self.reader.close()
