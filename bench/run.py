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
import shutil
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
# (label, start, result name): Lua benchmarks in bench/lua/lbench.lua, run on each tree's
# own snlua, luaclib, lualib and service.
LUA_BENCHES = [
    ("lua send (msg/s)", "lbench send 1000000", "lua_send"),
    ("lua call (call/s)", "lbench call 200000", "lua_call"),
    ("100 callers -> hub (call/s)", "lbench hub 100 2000", "lua_hub"),
    ("spawn 2000 (service/s)", "lbench spawn 2000", "lua_spawn"),
    ("RSS per service (KiB)", "lbench spawn 2000", "lua_service_rss"),
    ("100k coroutines park (/s)", "lbench sleepers 100000", "lua_park"),
    ("100k coroutines wake (/s)", "lbench sleepers 100000", "lua_wake"),
    ("memory per coroutine (B)", "lbench sleepers 100000", "lua_coroutine_mem"),
    ("socketchannel order (req/s)", "channel_bench 200000 100", "channel_order"),
    ("socketchannel session (req/s)", "channel_bench 200000 100", "channel_session"),
]
LUA_ECHO = [("skynet.socket echo", "sockecho"), ("gate.lua echo", "gateecho")]


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


def lua_config(tree, start, args):
    fd, path = tempfile.mkstemp(prefix="bench-config-")
    lua = os.path.join(ROOT, "bench", "lua")
    with os.fdopen(fd, "w") as f:
        f.write(f'thread = {args.thread}\nharbor = 0\nprofile = {args.profile}\n')
        f.write(f'root = "{tree}/"\ncpath = root.."cservice/?.so"\nbootstrap = "snlua bootstrap"\n')
        f.write(f'start = "{start}"\nlualoader = root.."lualib/loader.lua"\n')
        f.write(f'luaservice = root.."service/?.lua;{lua}/?.lua"\n')
        f.write('lua_path = root.."lualib/?.lua;"..root.."lualib/?/init.lua"\nlua_cpath = root.."luaclib/?.so"\n')
    return path


LUA_RESULTS = {}


def lua_bench(tree, start, name, args):
    """Runs `start` once per tree (several results share a run) and returns `name`'s value."""
    key = (tree, start)
    if key not in LUA_RESULTS:
        path = lua_config(tree, start, args)
        try:
            out = subprocess.run([os.path.join(tree, "skynet"), path], cwd=tree, capture_output=True,
                                 text=True, timeout=600).stdout
        finally:
            os.unlink(path)
        LUA_RESULTS[key] = {m.group(1): float(m.group(2))
                            for m in re.finditer(r"BENCH (\S+) value=([\d.]+)", out)}
    return LUA_RESULTS[key].get(name)


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


def echo_bench(tree, conns, args, lua_role=None):
    port = free_port()
    if lua_role:
        path = lua_config(tree, f"lbench {lua_role} {port}", args)
    else:
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


def wrk_bench(tree, args):
    """HTTP keep-alive requests/s and p99 (µs) through httpd, 100 connections, from wrk."""
    if shutil.which("wrk") is None:
        return None
    port = free_port()
    path = lua_config(tree, f"http_bench {port}", args)
    node = subprocess.Popen([os.path.join(tree, "skynet"), path], cwd=tree,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_port(port, node):
            return None
        out = subprocess.run(["wrk", "-t2", "-c100", f"-d{max(1, int(args.seconds))}s", "--latency",
                              f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=120).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        scale = {"us": 1, "ms": 1e3, "s": 1e6}
        return (float(rps.group(1)) if rps else None,
                float(p99.group(1)) * scale[p99.group(2)] if p99 else None)
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
    p.add_argument("--only", choices=["c", "lua"], help="run only the C-service or the Lua benchmarks")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    build()
    trees = [("this", ROOT)] + ([("other", os.path.abspath(args.other))] if args.other else [])
    print(f"thread = {args.thread}, profile = {args.profile}")
    print(f"{'benchmark':28} " + " ".join(f"{name:>14}" for name, _ in trees) + ("      ratio" if args.other else ""))
    if args.only != "lua":
        c_benches(trees, args)
    if args.only != "c":
        lua_benches(trees, args)


def row(label, values, other):
    ratio = f"{values[0] / values[1]:10.2f}x" if other and all(values) else ""
    print(f"{label:28} " + " ".join(f"{fmt(v):>14}" for v in values) + ratio)
    sys.stdout.flush()


def echo_rows(name, trees, args, lua_role=None):
    for conns in ECHO_CONNS:
        results = [echo_bench(tree, conns, args, lua_role) for _, tree in trees]
        row(f"{name}, {conns} conns (req/s)", [r[0] if r else None for r in results], args.other)
        row(f"{name}, {conns} conns (p99 µs)", [r[2] if r else None for r in results], False)


def lua_benches(trees, args):
    for label, start, name in LUA_BENCHES:
        row(label, [lua_bench(tree, start, name, args) for _, tree in trees], args.other)
    for name, role in LUA_ECHO:
        echo_rows(name, trees, args, role)
    if shutil.which("wrk") is None:
        print("httpd: skipped, wrk is not installed (apt-get install wrk)")
        return
    results = [wrk_bench(tree, args) for _, tree in trees]
    row("httpd keep-alive (req/s)", [r[0] if r else None for r in results], args.other)
    row("httpd keep-alive (p99 µs)", [r[1] if r else None for r in results], False)


def c_benches(trees, args):
    for label, boot in MESSAGE_BENCHES:
        row(label + " (msg/s)", [message_bench(tree, boot, args) for _, tree in trees], args.other)
    echo_rows("gate echo", trees, args)


if __name__ == "__main__":
    main()
