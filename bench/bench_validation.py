"""Benchmark: the cost of validating answers against their ``returns`` schema, for ``GET /cluster/resources``.

In one run, at 10 and at 1000 guests:

- **validate_returns**: milliseconds per ``Endpoint.validate_returns(rows)`` (what the API app calls for every
  answer when validation is on) on a valid answer, next to the full ``jsonschema`` report alone
  (``describe_errors``: what a failing answer costs, and what every answer cost before the compiled checker);
- **proxmoxer end to end**: ``cluster.resources.get()`` through ``pytest_pvemock.mock`` with validation off and on,
  requests per second. "same answer" asks the same cluster again and again (an answer already found valid may be
  remembered by the app); "clock moving" advances the cluster's clock 1 s before each call, so that every answer
  is new (uptimes change) and is validated in full. Goal (issue 3): validation costs at most 25% at 1000 guests,
  i.e. validated >= 0.75x unvalidated.

    python bench/bench_validation.py [--seconds 1.0] [--repeats 3] [--sizes 10,1000]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

# Run as a script from bench/: the cluster, the login and the rate loop are the in-process benchmark's own.
from bench_resources import cluster_with, login, rate

SIZES = (10, 1000)


def best_ms(call: Callable[[], Any], seconds: float, repeats: int) -> float:
    """The best mean time of ``call`` in milliseconds over ``repeats`` rounds of about ``seconds`` each."""
    return min(1000 / rate(call, seconds) for _ in range(repeats))


def validation_times(guests: int, seconds: float, repeats: int) -> dict[str, float]:
    from pytest_pvemock import mock
    from pytest_pvemock.schema.registry import get_registry
    from pytest_pvemock.schema.returns import describe_errors

    cluster = cluster_with(guests)
    with mock(cluster, validate=False):
        rows = login(cluster).cluster.resources.get()
    endpoint = get_registry(cluster.version).endpoint("GET", "/cluster/resources")
    if endpoint.validate_returns(rows):
        raise RuntimeError("the fake's /cluster/resources answer is not valid")
    validator = endpoint.schema.returns_validator()
    return {
        "rows": len(rows),
        "validate_returns ms": best_ms(lambda: endpoint.validate_returns(rows), seconds, repeats),
        "full report ms": best_ms(lambda: describe_errors(validator, rows), seconds, repeats),
    }


def end_to_end(guests: int, seconds: float, repeats: int) -> dict[str, float]:
    """Best requests per second, interleaved so that validated and unvalidated share the machine's noise."""
    from pytest_pvemock import mock

    cluster = cluster_with(guests)
    best: dict[str, float] = {}
    for _ in range(repeats):
        for validate in (False, True):
            with mock(cluster, validate=validate):
                api = login(cluster)
                figures = {
                    "same answer": rate(api.cluster.resources.get, seconds),
                    "clock moving": rate(moving(cluster, api), seconds),
                }
            for name, figure in figures.items():
                key = f"{name}, {'on' if validate else 'off'}"
                best[key] = max(best.get(key, 0.0), figure)
    return best


def moving(cluster: Any, api: Any) -> Callable[[], Any]:
    def call() -> Any:
        cluster.clock.advance(1)
        return api.cluster.resources.get()

    return call


def report(times: dict[int, dict[str, float]], e2e: dict[int, dict[str, float]]) -> str:
    lines = [
        "GET /cluster/resources: validating one valid answer (ms per call, best of the rounds)",
        "",
        f"{'guests':>6}  {'rows':>5}  {'validate_returns':>16}  {'full jsonschema report':>22}",
    ]
    for guests, figures in times.items():
        lines.append(
            f"{guests:>6}  {int(figures['rows']):>5}  {figures['validate_returns ms']:>13.3f} ms"
            f"  {figures['full report ms']:>19.3f} ms"
        )
    lines += [
        "",
        "proxmoxer cluster.resources.get() in-process, requests per second, validation off vs on",
        "",
        f"{'guests':>6}  {'answers':<13}  {'off':>7}  {'on':>7}  {'on/off':>6}  goal (on/off >= 0.75 at 1000)",
    ]
    for guests, figures in e2e.items():
        for name in ("same answer", "clock moving"):
            off, on = figures[f"{name}, off"], figures[f"{name}, on"]
            ratio = on / off
            goal = ("met" if ratio >= 0.75 else "MISSED") if guests >= 1000 else ""
            lines.append(f"{guests:>6}  {name:<13}  {off:>7.1f}  {on:>7.1f}  {ratio:>5.2f}x  {goal}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per measurement (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many rounds (default 3)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="guest counts (default 10,1000)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    times = {guests: validation_times(guests, args.seconds, args.repeats) for guests in sizes}
    e2e = {guests: end_to_end(guests, args.seconds, args.repeats) for guests in sizes}
    print(report(times, e2e))


if __name__ == "__main__":
    main()
