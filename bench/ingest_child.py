"""Store ingestion of N passages with precomputed vectors, measured in its own process.

    python -m bench.ingest_child --n 100000 --source var/bench/kb_sample.npz --dir /tmp/x

Reads real KB chunks and their real embeddings, tiles them up to N (each copy gets a
tiny random perturbation so HNSW is not fed exact duplicates), upserts them into a
fresh collection through retrieval.store.ChromaIndex, and prints one JSON line:
passages/second and the process's RSS before and at peak."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--source", type=Path, required=True)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()

    from retrieval.store import ChromaIndex

    data = np.load(args.source, allow_pickle=False)
    vectors, texts = data["vectors"], [str(t) for t in data["texts"]]
    rng = np.random.default_rng(0)
    if args.dir.exists():
        shutil.rmtree(args.dir)
    index = ChromaIndex.embedded(args.dir)
    index.count("bench_kb")  # create the collection outside the timing
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    for start in range(0, args.n, args.batch):
        idx = np.arange(start, min(start + args.batch, args.n)) % len(vectors)
        batch = vectors[idx] + rng.normal(0, 1e-3, (len(idx), vectors.shape[1])).astype("f4")
        batch /= np.linalg.norm(batch, axis=1, keepdims=True)
        ids = [f"p{start + j}" for j in range(len(idx))]
        index.upsert(
            "bench_kb",
            ids=ids,
            embeddings=batch,
            documents=[texts[i] for i in idx],
            metadatas=[{"doc_id": f"d{(start + j) // 4}", "n": j % 4} for j in range(len(idx))],
        )
    seconds = time.perf_counter() - t0
    assert index.count("bench_kb") == args.n
    peak = _peak_rss_mb()
    print(
        json.dumps(
            {
                "passages": args.n,
                "seconds": round(seconds, 2),
                "passages_per_s": round(args.n / seconds, 1),
                "rss_before_mb": round(rss_before, 1),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )
    shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
