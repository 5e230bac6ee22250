"""Quote 1,000,000 synthetic residents on one core and print quotes per second.

Usage: python benchmarks/bench_quote.py [--residents N] [--policy ID] [--seed S]

Printed beside the figure, in the same process and on the same residents:
  - baseline: a plain dict lookup of each request (the floor of a Python loop that
    hashes the same request objects) — no policy logic at all;
  - cold: the engine without its quote cache (every request computed from the rules),
    on a sample, so the cache's share of the speed is visible.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from datetime import date, timedelta

from yibao.policy import IdentityClaim, QuoteRefused, QuoteRequest, get_policy
from yibao.policy.engine import compute_quote


def synthetic_residents(policy_id: str, count: int, seed: int) -> list[QuoteRequest]:
    policy = get_policy(policy_id).data
    rng = random.Random(seed)
    keys = [i.key for i in policy.identities if i.population == "resident"]
    start = policy.collection.opens_on or date(policy.benefit_year - 1, 10, 25)
    days = (date(policy.benefit_year, 12, 31) - start).days
    requests = []
    for _ in range(count):
        roll = rng.random()
        held: tuple[IdentityClaim, ...] = ()
        if keys and roll < 0.12:
            held = (IdentityClaim(rng.choice(keys)),)
        elif keys and roll < 0.14:
            held = (IdentityClaim(rng.choice(keys)), IdentityClaim(rng.choice(keys)))
        # most people pay in the collection period, a tail pays later
        offset = int(abs(rng.gauss(0, 40))) if rng.random() < 0.85 else rng.randrange(days)
        requests.append(
            QuoteRequest(
                paid_on=start + timedelta(days=min(offset, days)),
                tier=1 if rng.random() < 0.9 else 2,
                identities=held,
            )
        )
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--policy", default="qijiang-sanjiang-2023")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--cold-sample", type=int, default=50_000)
    args = parser.parse_args()

    requests = synthetic_residents(args.policy, args.residents, args.seed)
    engine = get_policy(args.policy)

    table = {r: None for r in requests}
    t0 = time.perf_counter()
    for r in requests:
        table.get(r)
    baseline = time.perf_counter() - t0

    refused = 0
    total_personal = 0
    t0 = time.perf_counter()
    for r in requests:
        try:
            total_personal += engine.quote(r).personal
        except QuoteRefused:
            refused += 1
    cached = time.perf_counter() - t0

    sample = requests[: args.cold_sample]
    t0 = time.perf_counter()
    for r in sample:
        with contextlib.suppress(QuoteRefused):
            compute_quote(engine.data, r)
    cold = time.perf_counter() - t0

    n = len(requests)
    print(
        f"policy {args.policy}, {n:,} synthetic residents ({len(table):,} distinct requests), one core"
    )
    print(f"  engine (with quote cache): {n / cached:>12,.0f} quotes/s  ({cached:.2f} s)")
    print(f"  baseline dict lookup:      {n / baseline:>12,.0f} lookups/s ({baseline:.2f} s)")
    print(
        f"  engine cold (no cache):    {len(sample) / cold:>12,.0f} quotes/s  (sample of {len(sample):,})"
    )
    print(f"  refused: {refused:,}; personal amounts due: {total_personal:,.2f} yuan")
    print("  goal: 200,000 quotes/s or more")


if __name__ == "__main__":
    main()
