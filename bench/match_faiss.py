#!/usr/bin/env python3
"""FAISS's binary indexes on the data of bench/match (bench/match.sh).

    /usr/bin/python3 bench/match_faiss.py --dir DIR --n N --data KIND
        [--radius 31] [--rounds 3] [--budget SECONDS]
        [--nhash 16] [--bits 16] [--nflip 1] [--only flat|mih]

DIR is where `match` left hashes.bin (N x 32 bytes), queries.bin and
truth.bin (the brute-force hits of its sample queries, the first S). Needs
Debian's python3-faiss and python3-numpy (hence /usr/bin/python3).

Two indexes over the same N hashes, each built (timed) and then queried
at radius R (default 31) by range_search, on 1 thread and on 2
(faiss.omp_set_num_threads), ROUNDS rounds each (default 3):

  flat  IndexBinaryFlat(256): a scan of every code per query.
  mih   IndexBinaryMultiHash(256, nhash, b) with nflip: nhash tables, each
        keyed by b consecutive bits of the code, probed at every key within
        nflip bits. Exact at radius R when nhash * (nflip + 1) > R (some
        table is then within nflip bits; the default 16 x 16 bits, nflip 1,
        is ward's split of the hash with the same 272 probes, without its
        partner-chunk filter).

FAISS's range search keeps distances strictly below its radius argument,
so it is given R + 1.

Both take the first K queries of the sample, K chosen so that one index's
rounds take about BUDGET seconds (default 40) from a 20-query trial (not
counted), at least 102 (FAISS runs range_search on several threads only
above 100 queries) where S allows. Each query's ids must equal the
brute-force hits exactly. Prints RESULT lines on stdout for match.sh and
exits 1 on a mismatch.
"""
import argparse
import os
import sys
import time

import faiss
import numpy as np

D_BITS = 256
TRIAL = 20
MIN_PARALLEL = 102


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def read_truth(path, count):
    raw = np.fromfile(path, dtype="<u4")
    out, at = [], 0
    for _ in range(count):
        k = int(raw[at])
        out.append(raw[at + 1 : at + 1 + k].astype(np.int64))
        at += 1 + k
    if at != len(raw):
        sys.exit("match_faiss: truth.bin is not %d queries long" % count)
    return out


def range_search(index, q, radius):
    lims, dist, ids = index.range_search(q, radius + 1)
    return lims, dist, ids


def check(lims, dist, ids, truth, radius):
    """How many queries have exactly the brute-force hits."""
    agree = 0
    for i in range(len(lims) - 1):
        got = np.sort(ids[lims[i] : lims[i + 1]])
        d = dist[lims[i] : lims[i + 1]]
        if len(d) and d.max() > radius:
            continue
        if np.array_equal(got, truth[i]):
            agree += 1
    return agree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--radius", type=int, default=31)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=40.0)
    ap.add_argument("--nhash", type=int, default=16)
    ap.add_argument("--bits", type=int, default=16)
    ap.add_argument("--nflip", type=int, default=1)
    ap.add_argument("--only", choices=("flat", "mih"))
    a = ap.parse_args()
    tag = "data=%s n=%d" % (a.data, a.n)

    if a.nhash * a.bits > D_BITS or a.nhash * (a.nflip + 1) <= a.radius:
        sys.exit("match_faiss: nhash %d x %d bits with nflip %d is not exact "
                 "at radius %d" % (a.nhash, a.bits, a.nflip, a.radius))
    xb = np.fromfile(os.path.join(a.dir, "hashes.bin"), dtype=np.uint8)
    if len(xb) != a.n * 32:
        sys.exit("match_faiss: hashes.bin does not hold %d hashes" % a.n)
    xb = xb.reshape(a.n, 32)
    xq = np.fromfile(os.path.join(a.dir, "queries.bin"), dtype=np.uint8)
    xq = xq.reshape(-1, 32)
    # The sample is as long as truth.bin says: count its records.
    raw = np.fromfile(os.path.join(a.dir, "truth.bin"), dtype="<u4")
    at, sample = 0, 0
    while at < len(raw):
        at += 1 + int(raw[at])
        sample += 1
    truth = read_truth(os.path.join(a.dir, "truth.bin"), sample)
    print("RESULT %s what=faiss-params faiss=%s sample=%d nhash=%d bits=%d "
          "nflip=%d rounds=%d" % (tag, faiss.__version__, sample, a.nhash,
                                  a.bits, a.nflip, a.rounds), flush=True)
    if not sample:
        return 0

    fail = False
    for kind in ("flat", "mih"):
        if a.only and kind != a.only:
            continue
        faiss.omp_set_num_threads(1)
        before = rss_bytes()
        t0 = time.perf_counter()
        if kind == "flat":
            index = faiss.IndexBinaryFlat(D_BITS)
        else:
            index = faiss.IndexBinaryMultiHash(D_BITS, a.nhash, a.bits)
            index.nflip = a.nflip
        index.add(xb)
        build = time.perf_counter() - t0
        mem = rss_bytes() - before
        print("RESULT %s tool=faiss-%s what=build secs=%.3f mem=%d" %
              (tag, kind, build, mem), flush=True)

        # The trial: how many queries fit the budget.
        trial = min(TRIAL, sample)
        t0 = time.perf_counter()
        range_search(index, xq[:trial], a.radius)
        per_q = (time.perf_counter() - t0) / trial
        # 1 thread, then 2 at best twice as fast: 1.5 x rounds passes.
        k = int(a.budget / (per_q * 1.5 * a.rounds))
        k = max(min(k, sample), min(MIN_PARALLEL, sample), trial)
        k -= k % 2 if k > 1 else 0
        q = xq[:k]

        if kind == "mih":
            faiss.cvar.indexBinaryHash_stats.reset()
        for run in range(1, a.rounds + 1):
            for threads in ((1, 2) if run % 2 else (2, 1)):
                faiss.omp_set_num_threads(threads)
                t0 = time.perf_counter()
                lims, dist, ids = range_search(index, q, a.radius)
                secs = time.perf_counter() - t0
                hits = int(lims[-1])
                print("RESULT %s tool=faiss-%s threads=%d run=%d queries=%d "
                      "secs=%.4f hits=%d" % (tag, kind, threads, run, k, secs,
                                             hits), flush=True)
                if run == 1:
                    agree = check(lims, dist, ids, truth, a.radius)
                    print("RESULT %s tool=faiss-%s what=check threads=%d "
                          "queries=%d agree=%d" % (tag, kind, threads, k,
                                                    agree), flush=True)
                    fail = fail or agree != k
        if kind == "mih":
            st = faiss.cvar.indexBinaryHash_stats
            print("RESULT %s tool=faiss-mih what=stats queries=%d "
                  "candidates=%d" % (tag, st.nq, st.ndis), flush=True)
        del index
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
