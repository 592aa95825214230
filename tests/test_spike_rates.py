"""The spike rule is quiet on noise and still catches what matters (issue #16), shown over many
seeded months of ordinary i.i.d. usage rather than one lucky seed (tests/spike_months.py
generates them; bench/spike_calibration.py prints the same figures over more seeds and other
kinds of users)."""

from __future__ import annotations

import pytest
import spike_months as sm

SEEDS = range(30)
DAYS = 60  # judged per seed, after 28 days of history: 1,800 days in all


@pytest.mark.parametrize("profile", ["reference", "waking hours 08-23"])
def test_ordinary_usage_raises_at_most_one_spike_per_90_days(profile):
    found, judged, spikes = sm.false_spikes(sm.PROFILES[profile], SEEDS, DAYS)
    per_90 = 90 * found / judged
    detail = [
        (s["seed"], s["day"], s["kind"], s.get("hour"), round(s["value"], 2), round(s["median"], 3)) for s in spikes
    ]
    assert per_90 <= 1.0, f"{found} spikes in {judged} ordinary days ({per_90:.2f} per 90 days): {detail[:20]}"


@pytest.mark.parametrize("profile", ["reference", "waking hours 08-23"])
def test_a_three_times_day_is_caught_by_the_record_that_makes_it(profile):
    missed = []
    for seed in SEEDS:
        catch = sm.three_times_day(seed, sm.PROFILES[profile])
        if not catch.caught:
            missed.append((seed, catch))
    assert not missed


@pytest.mark.parametrize("profile", ["reference", "waking hours 08-23"])
def test_an_hour_of_five_times_the_usual_work_is_caught_within_the_hour(profile):
    missed = []
    for seed in SEEDS:
        catch = sm.five_times_hour(seed, sm.PROFILES[profile])
        if not catch.caught:
            missed.append((seed, catch))
    assert not missed


@pytest.mark.parametrize("profile", ["reference", "waking hours 08-23"])
def test_a_runaway_agent_is_caught_within_the_hour(profile):
    missed = []
    for seed in SEEDS:
        catch = sm.runaway(seed, sm.PROFILES[profile])
        if not catch.caught:
            missed.append((seed, catch))
    assert not missed
