"""
SLA engine: the vectorised frame form against looping the single-case function.

Both answer the same question (first-response and resolution SLA of every case
at one moment, with the clocks paused while waiting on the customer) on the
same synthetic cases; the frame form should be far faster, and its answers are
checked to be identical before timing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _bench import median_seconds, peak_memory_mb, report

from crmlifecycle.sla import BusinessCalendar, CaseSla, SlaPolicy, case_sla, sla_status

POLICY = SlaPolicy(
    targets={
        "urgent": {"first_response": "1h", "resolution": "8h"},
        "high": {"first_response": "2h", "resolution": "16h"},
        "normal": {"first_response": "4h", "resolution": "40h"},
        "low": {"first_response": "8h", "resolution": "80h"},
    },
    calendar=BusinessCalendar(
        tz="Europe/Berlin",
        hours={"mon-fri": "08:00-12:00,13:00-18:00"},
        holidays=["2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25", "2026-12-26"],
    ),
)
AT = pd.Timestamp("2027-01-01T00:00Z")


def make_cases(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases opened during 2026: start, sometimes wait/resume, resolve, sometimes close."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-01T00:00Z").value
    opened = start + rng.integers(0, 360 * 86_400, n) * 1_000_000_000
    hour = 3_600 * 1_000_000_000

    def later(base: np.ndarray, mean_hours: float) -> np.ndarray:
        result: np.ndarray = base + (rng.exponential(mean_hours, n) * hour).astype(np.int64)
        return result

    t_start = later(opened, 6)
    t_wait = later(t_start, 4)
    t_resume = later(t_wait, 20)
    t_resolve = later(t_resume, 10)
    t_close = later(t_resolve, 48)
    waits = rng.random(n) < 0.3
    closes = rng.random(n) < 0.8
    ids = np.array([f"C{i:07d}" for i in range(n)], dtype=object)
    parts = [
        (ids, t_start, "in_progress"),
        (ids[waits], t_wait[waits], "waiting_on_customer"),
        (ids[waits], t_resume[waits], "in_progress"),
        (ids, t_resolve, "resolved"),
        (ids[closes], t_close[closes], "closed"),
    ]
    events = pd.DataFrame(
        {
            "kind": "case",
            "entity_id": np.concatenate([p[0] for p in parts]),
            "dest": np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts]),
            "at": pd.to_datetime(np.concatenate([p[1] for p in parts]), utc=True),
        }
    )
    respond = rng.random(n) < 0.9
    cases = pd.DataFrame(
        {
            "case_id": ids,
            "opened_at": pd.to_datetime(opened, utc=True),
            "priority": rng.choice(
                ["low", "normal", "high", "urgent"], n, p=[0.3, 0.45, 0.18, 0.07]
            ),
            "first_response_at": pd.to_datetime(
                np.where(respond, later(opened, 5), np.iinfo(np.int64).min), utc=True
            ),
        }
    )
    return cases, events


def loop_single(cases: pd.DataFrame, events: pd.DataFrame) -> list[CaseSla]:
    by_case = {str(key): group for key, group in events.groupby("entity_id", sort=False)}
    empty = events.iloc[:0]
    columns = zip(
        cases["case_id"].tolist(),
        cases["opened_at"].tolist(),
        cases["priority"].tolist(),
        cases["first_response_at"].tolist(),
        strict=True,
    )
    return [
        case_sla(
            POLICY,
            opened_at=opened,
            priority=str(priority),
            as_of=AT,
            history=by_case.get(str(case_id), empty),
            first_response_at=responded,
        )
        for case_id, opened, priority, responded in columns
    ]


def main() -> None:
    cases, events = make_cases(2_000)
    frame = sla_status(cases, POLICY, as_of=AT, events=events)
    single = loop_single(cases, events)
    same = [
        (status, elapsed) == (answer.resolution.status, answer.resolution.elapsed)
        for status, elapsed, answer in zip(
            frame["resolution_status"], frame["resolution_elapsed"], single, strict=True
        )
    ]
    if not all(same):
        msg = f"the two engines disagree on {same.count(False)} cases"
        raise RuntimeError(msg)
    ours = median_seconds(lambda: sla_status(cases, POLICY, as_of=AT, events=events), repeat=5)
    baseline = median_seconds(lambda: loop_single(cases, events), repeat=3, warmup=0)
    report(
        "sla_status, 2,000 cases (~5,700 events)",
        ours,
        baseline,
        baseline_name="loop of case_sla",
        target="< 0.05x",
    )
    big_cases, big_events = make_cases(200_000, seed=2)
    big = median_seconds(
        lambda: sla_status(big_cases, POLICY, as_of=AT, events=big_events), repeat=3
    )
    memory = peak_memory_mb(lambda: sla_status(big_cases, POLICY, as_of=AT, events=big_events))
    print(
        f"sla_status, 200,000 cases ({len(big_events):,} events): {big:.2f} s, "
        f"peak {memory:.0f} MiB, {big / len(big_cases) * 1e6:.1f} us per case"
    )
    calendar = POLICY.calendar
    starts = big_cases["opened_at"]
    spans = pd.Series(pd.to_timedelta(np.full(len(starts), 7 * 3600, dtype=np.int64), unit="s"))
    spans.index = starts.index
    add = median_seconds(lambda: calendar.add_business_time(starts, spans), repeat=5)
    scalar_rows = starts.iloc[:2_000]
    scalar = median_seconds(
        lambda: [calendar.add_business_time(s, "7h") for s in scalar_rows], repeat=3
    )
    report(
        "add_business_time per 1,000 instants (Series of 200,000 vs scalar loop of 2,000)",
        add / 200,
        scalar / 2,
        baseline_name="scalar calls",
        target="< 0.05x",
    )


if __name__ == "__main__":
    main()
