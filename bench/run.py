#!/usr/bin/env python3
"""Benchmarks for the skynet runtime, optionally side by side with another skynet tree.

    python3 bench/run.py [--other /path/to/skynet-tree] [--thread 8] [--profile true]

Both trees run the same C services (bench/c/bench.c, examples/cservice/watchdog.c), built
here against include/; the other tree supplies its own ./skynet, logger and gate.
"""
import argparse
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench")

MESSAGE_BENCHES = [
    ("pingpong, 1 pair", "bench pingpong 1 1000000"),
    ("pingpong, 4 pairs", "bench pingpong 4 250000"),
    ("fan-in, 16 -> 1", "bench fanin 16 100000"),
]
ECHO_CONNS = [100, 1000]


def build():
    os.makedirs(OUT, exist_ok=True)
    cc = ["cc", "-O2", "-Wall", "-Werror", "-I" + os.path.join(ROOT, "include")]
    subprocess.check_call(cc + ["-fPIC", "-shared", "-o", os.path.join(OUT, "bench.so"), "bench/c/bench.c"], cwd=ROOT)
    subprocess.check_call(cc + ["-fPIC", "-shared", "-o", os.path.join(OUT, "watchdog.so"),
                           "examples/cservice/watchdog.c"], cwd=ROOT)
    subprocess.check_call(cc + ["-o", os.path.join(OUT, "echo_client"), "bench/c/echo_client.c"], cwd=ROOT)


def config(tree, bootstrap, args):
    fd, path = tempfile.mkstemp(prefix="bench-config-")
    with os.fdopen(fd, "w") as f:
        f.write(f'thread = {args.thread}\nharbor = 0\nprofile = {args.profile}\n')
        f.write(f'cpath = "{tree}/cservice/?.so;{OUT}/?.so"\nbootstrap = "{bootstrap}"\n')
    return path


def message_bench(tree, bootstrap, args):
    path = config(tree, bootstrap, args)
    try:
        out = subprocess.run([os.path.join(tree, "skynet"), path], cwd=tree, capture_output=True,
                             text=True, timeout=300).stdout
    finally:
        os.unlink(path)
    m = re.search(r"BENCH \S+ msgs=\d+ seconds=[\d.]+ rate=(\d+)", out)
    return float(m.group(1)) if m else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, limit=30):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def echo_bench(tree, conns, args):
    port = free_port()
    path = config(tree, f"watchdog 127.0.0.1:{port}", args)
    node = subprocess.Popen([os.path.join(tree, "skynet"), path], cwd=tree,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_port(port, node):
            return None
        out = subprocess.run([os.path.join(OUT, "echo_client"), "127.0.0.1", str(port), str(conns),
                              str(args.seconds)], capture_output=True, text=True, timeout=120).stdout
        m = re.search(r"rps=(\d+) p50_us=(\d+) p99_us=(\d+)", out)
        return tuple(float(x) for x in m.groups()) if m else None
    finally:
        node.kill()
        node.wait()
        os.unlink(path)


def fmt(v):
    return "-" if v is None else f"{v:,.0f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--other", help="another skynet tree (its ./skynet and cservice/) to compare with")
    p.add_argument("--thread", type=int, default=8)
    p.add_argument("--profile", default="true", choices=["true", "false"])
    p.add_argument("--seconds", type=float, default=5.0, help="duration of each echo run")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    build()
    trees = [("this", ROOT)] + ([("other", os.path.abspath(args.other))] if args.other else [])
    print(f"thread = {args.thread}, profile = {args.profile}")
    print(f"{'benchmark':28} " + " ".join(f"{name:>14}" for name, _ in trees) + ("      ratio" if args.other else ""))
    for label, boot in MESSAGE_BENCHES:
        rates = [message_bench(tree, boot, args) for _, tree in trees]
        ratio = f"{rates[0] / rates[1]:10.2f}x" if args.other and all(rates) else ""
        print(f"{label + ' (msg/s)':28} " + " ".join(f"{fmt(r):>14}" for r in rates) + ratio)
        sys.stdout.flush()
    for conns in ECHO_CONNS:
        results = [echo_bench(tree, conns, args) for _, tree in trees]
        rps = [r[0] if r else None for r in results]
        p99 = [r[2] if r else None for r in results]
        ratio = f"{rps[0] / rps[1]:10.2f}x" if args.other and all(rps) else ""
        print(f"{f'gate echo, {conns} conns (req/s)':28} " + " ".join(f"{fmt(r):>14}" for r in rps) + ratio)
        print(f"{f'gate echo, {conns} conns (p99 µs)':28} " + " ".join(f"{fmt(r):>14}" for r in p99))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
