#!/usr/bin/env python3
"""Bounded loopback load on GET /v1/runs and POST /v1/runs (bench tooling, stdlib only).

  python3 bench/api/load.py --url http://127.0.0.1:18320 --key <write key> \
      --seconds 30 --threads 8 --post-every 4

Each thread loops: GET /v1/runs?limit=20, and every --post-every-th request a POST /v1/runs with a
unique runName. Prints per endpoint: requests, p50/p99/max latency (ms), status counts, and the
first request answered 429 (the admission limit) with its Retry-After.
"""
import argparse
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict


def call(url, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            status, headers = r.status, r.headers
    except urllib.error.HTTPError as e:
        e.read()
        status, headers = e.code, e.headers
    except Exception as e:  # connection errors count as errors, status 0
        status, headers = 0, {}
    return status, (time.perf_counter() - t0) * 1000, headers


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--url", required=True)
    a.add_argument("--key", required=True)
    a.add_argument("--seconds", type=float, default=30)
    a.add_argument("--threads", type=int, default=8)
    a.add_argument("--post-every", type=int, default=4)
    args = a.parse_args()
    lat = defaultdict(list)
    codes = defaultdict(Counter)
    first429 = {}
    lock = threading.Lock()
    stop = time.time() + args.seconds
    stamp = uuid.uuid4().hex[:6]

    def worker(n):
        i = 0
        while time.time() < stop:
            i += 1
            if i % args.post_every == 0:
                spec = {"runName": f"load-{stamp}-{n}-{i}", "dataset": "builtin:ecommerce-faq",
                        "baseModel": "tiny-llama-random"}
                s, ms, h = call(args.url, args.key, "POST", "/v1/runs", spec)
                name = "POST /v1/runs"
            else:
                s, ms, h = call(args.url, args.key, "GET", "/v1/runs?limit=20")
                name = "GET /v1/runs"
            with lock:
                lat[name].append(ms)
                codes[name][s] += 1
                if s == 429 and name not in first429:
                    first429[name] = (sum(codes[name].values()), h.get("Retry-After"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    print(f"load: {args.threads} threads, {wall:.1f} s, POST every {args.post_every}th request")
    print("| endpoint | requests | req/s | p50 ms | p99 ms | max ms | statuses | errors (5xx/conn) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in sorted(lat):
        c = codes[name]
        errors = sum(v for k, v in c.items() if k == 0 or k >= 500)
        print(f"| {name} | {len(lat[name])} | {len(lat[name]) / wall:.1f} | {pct(lat[name], 50):.1f} | "
              f"{pct(lat[name], 99):.1f} | {max(lat[name]):.1f} | {dict(sorted(c.items()))} | {errors} |")
    for name, (n, retry) in first429.items():
        print(f"first 429 on {name}: request #{n}, Retry-After {retry}")


if __name__ == "__main__":
    main()
