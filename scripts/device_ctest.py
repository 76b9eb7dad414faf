#!/usr/bin/env python3
"""Runs a build's whole ctest list where the programs are but the build tree is not: on the GPU
machine, which gets .devbin/ (scripts/make_devbin.sh) instead of the build folder.

make_devbin.sh saves the build's `ctest --show-only=json-v1` and its source and build folders in
.devbin/. This maps those paths onto .devbin/ and this tree, runs every test as ctest does (its
arguments, working folder, environment, timeout, SKIP_RETURN_CODE and SKIP_REGULAR_EXPRESSION)
and prints ctest's verdicts and totals. Exit status 1 when a test failed.

  scripts/device_ctest.py [.devbin] [-R regex]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# Tests that need the build tree itself, which does not travel: CI runs them.
NEEDS_BUILD_TREE = {"layering": "reads the build's object files"}


def main():
    args = sys.argv[1:]
    only = None
    if "-R" in args:
        i = args.index("-R")
        only = re.compile(args[i + 1])
        del args[i:i + 2]
    devbin = os.path.abspath(args[0] if args else ".devbin")
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    with open(os.path.join(devbin, "ctest.json")) as f:
        listing = json.load(f)
    with open(os.path.join(devbin, "build_paths.txt")) as f:
        source_dir, build_dir = f.read().split()

    def mapped(text):
        for sub in ("tests", "examples", "bench"):
            text = text.replace(f"{build_dir}/{sub}/", f"{devbin}/{sub}/")
        return text.replace(build_dir, devbin).replace(source_dir, root)

    env_base = dict(os.environ)
    # The tests' reference data: the build's source path is compiled in, and does not exist here.
    env_base.setdefault("EMBER_TEST_DATA_DIR", os.path.join(root, "tests", "data"))
    env_base["LD_LIBRARY_PATH"] = devbin + (":" + env_base["LD_LIBRARY_PATH"] if env_base.get("LD_LIBRARY_PATH") else "")
    counts = {"passed": 0, "failed": 0, "skipped": 0, "not run": 0}
    failed = []
    workdir = tempfile.mkdtemp(prefix="ember_ctest_")
    tests = [t for t in listing["tests"] if not only or only.search(t["name"])]
    start = time.time()
    for n, test in enumerate(tests, 1):
        name = test["name"]
        props = {p["name"]: p["value"] for p in test.get("properties", [])}
        label = f"{n:3d}/{len(tests)} {name}"
        if name in NEEDS_BUILD_TREE:
            counts["not run"] += 1
            print(f"{label} ... not run here ({NEEDS_BUILD_TREE[name]})")
            continue
        env = dict(env_base)
        for assignment in props.get("ENVIRONMENT", []):
            key, _, value = assignment.partition("=")
            env[key] = mapped(value)
        command = [mapped(c) for c in test["command"]]
        t0 = time.time()
        try:
            proc = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                                  errors="replace", timeout=float(props.get("TIMEOUT", 1500)))
            output, code = proc.stdout + proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:
            output, code = (e.stdout or "") if isinstance(e.stdout, str) else "", "timeout"
        seconds = time.time() - t0
        skip_regex = props.get("SKIP_REGULAR_EXPRESSION", [])
        if isinstance(skip_regex, str):
            skip_regex = [skip_regex]
        if code == props.get("SKIP_RETURN_CODE") or any(re.search(r, output) for r in skip_regex):
            verdict = "skipped"
        elif code == 0:
            verdict = "passed"
        else:
            verdict = "failed"
            failed.append((name, code, output[-3000:]))
        counts[verdict] += 1
        print(f"{label} ... {verdict} ({seconds:.2f} s)", flush=True)
    total = len(tests)
    print(f"\n{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped, "
          f"{counts['not run']} not run here, of {total} tests ({time.time() - start:.0f} s)")
    for name, code, output in failed:
        print(f"\n--- {name} (exit {code}) ---\n{output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
