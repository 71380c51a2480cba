"""First use of a release in a fresh process: its registry (the pack unpacked) and one answer validated; then a
second release in the same process. ``python bench/bench_release_first_use.py 8.2.5 7.4`` (figures in README.md)."""

from __future__ import annotations

import sys
import time


def main(first: str, second: str) -> None:
    start = time.perf_counter()
    from pytest_pvemock.schema.registry import get_registry

    registry = get_registry(first)
    built = time.perf_counter()
    answer = {"memory": "2048", "digest": "0" * 40, "name": "vm100", "cores": 2}
    problems = registry.resolve("GET", "/nodes/pve1/qemu/100/config").validate_returns(answer)
    validated = time.perf_counter()
    get_registry(second).resolve("GET", "/nodes/pve1/qemu/100/config").validate_returns(answer)
    again = time.perf_counter()
    print(
        f"{first}: registry {1000 * (built - start):.0f} ms, first validation {1000 * (validated - start):.0f} ms "
        f"in all; then {second}: {1000 * (again - validated):.0f} ms; problems: {problems}"
    )


if __name__ == "__main__":
    main(*(sys.argv[1:3] if len(sys.argv) > 2 else ("8.2.5", "7.4")))
