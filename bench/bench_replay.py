"""Replaying 1000 recorded interactions: pytest-pvemock's recorder against plain vcrpy, same requests, one run each.

Both replay the same 1000 answers (``GET /nodes/node1/qemu/<vmid>/status/current`` for 1000 VMs, the body a real
capture) through ``requests``: plain vcrpy from its own YAML cassette with its default matching, ours from the
readable cassette with PVE's matching. Loading the cassette is part of the time. The goal: within 1.5x of vcrpy.

    python bench/bench_replay.py [--interactions 1000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import requests
import vcr
from vcr.request import Request

from pytest_pvemock.cassette.file_format import CassetteFile
from pytest_pvemock.transports.recording.recorder import RecordingOptions, open_cassette

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "third_party" / "pve-captures" / "nodes-node-qemu-vmid-status-current__go-proxmox-pve8x.json"
BASE = "https://pve1.example.invalid:8006/api2/json/nodes/node1/qemu"


def urls(count: int) -> list[str]:
    return [f"{BASE}/{vmid}/status/current" for vmid in range(100, 100 + count)]


def interactions(count: int) -> tuple[list[Request], list[dict]]:
    template = json.loads(CAPTURE.read_text())
    requests_, responses = [], []
    for url in urls(count):
        vmid = int(url.split("/")[-3])
        body = json.dumps({"data": {**template["data"], "vmid": vmid}}).encode()
        requests_.append(Request("GET", url, None, {"Accept": "application/json"}))
        headers = {"Content-Type": ["application/json;charset=UTF-8"], "Content-Length": [str(len(body))]}
        responses.append({"status": {"code": 200, "message": "OK"}, "headers": headers, "body": {"string": body}})
    return requests_, responses


def write_cassettes(folder: Path, count: int) -> tuple[Path, Path]:
    requests_, responses = interactions(count)
    plain = folder / "plain.yaml"
    plain.write_text(
        vcr.serialize.serialize({"requests": requests_, "responses": responses}, vcr.serializers.yamlserializer)
    )
    ours = folder / "ours.yaml"
    CassetteFile().save_cassette(ours, {"requests": requests_, "responses": responses})
    return plain, ours


def replay(session: requests.Session, targets: list[str]) -> int:
    total = 0
    for url in targets:
        response = session.get(url, headers={"Accept": "application/json"})
        total += response.json()["data"]["vmid"]
    return total


def time_plain(path: Path, targets: list[str]) -> float:
    started = time.perf_counter()
    with vcr.VCR(record_mode="none").use_cassette(str(path)), requests.Session() as session:
        replay(session, targets)
    return time.perf_counter() - started


def time_ours(path: Path, targets: list[str]) -> float:
    started = time.perf_counter()
    with open_cassette(path, RecordingOptions(record_mode="none"), environ={}), requests.Session() as session:
        replay(session, targets)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is reported")
    args = parser.parse_args()
    targets = urls(args.interactions)
    with tempfile.TemporaryDirectory() as scratch:
        plain, ours = write_cassettes(Path(scratch), args.interactions)
        print(f"cassettes: plain vcrpy {plain.stat().st_size // 1024} KiB, ours {ours.stat().st_size // 1024} KiB")
        plain_best = min(time_plain(plain, targets) for _ in range(args.repeat))
        ours_best = min(time_ours(ours, targets) for _ in range(args.repeat))
    ratio = ours_best / plain_best
    print(f"replaying {args.interactions} interactions (best of {args.repeat}):")
    print(f"  plain vcrpy     {plain_best:8.3f} s")
    print(f"  pytest-pvemock  {ours_best:8.3f} s")
    print(f"  ratio ours/vcrpy {ratio:.2f}x (goal: <= 1.5x) -> {'OK' if ratio <= 1.5 else 'SLOWER THAN GOAL'}")


if __name__ == "__main__":
    main()
