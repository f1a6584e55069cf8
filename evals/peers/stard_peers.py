#!/usr/bin/env python3
"""Measure the Python BM25 peers on STARD-mini exactly as shared/benchmarks/README.md defines it.

Peers (all over STARD's stopword list, one thread):
  bm25s         bm25s.BM25 (defaults: lucene, k1 1.5, b 0.75) over jieba default-mode words
  rank_bm25     rank_bm25.BM25Okapi (defaults) over the same tokens
  bm25s_search  bm25s.BM25 over jieba search-mode words (jieba.cut_for_search)

Benchmark: corpus = union of gold articles, one document per distinct article name in order
of first appearance, id = article name, text = name + "\\n" + article text. Metrics over the
top 10 (binary relevance): recall@1/3/5/10, MRR@10, nDCG@10 (gain 1/log2(rank+1), ideal over
min(|gold|, 10)). Latency: raw question string -> top-10 ids, tokenization included, after
10 warm-up queries; p50/p99 by nearest rank. The dev split is the query ids in the first
column of qrels.dev.tsv; its latencies are those of its own queries (as `zhiban eval stard`).

Prints one JSON line per peer per split. Exits 0 with a skip message when the benchmark is
missing (a bare clone has no ../shared).
"""

import os

# One thread for every numeric library, set before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_STARD = (REPO_ROOT / ".." / "shared" / "benchmarks" / "stard").resolve()
PEERS = ("bm25s", "rank_bm25", "bm25s_search")


def load(stard_dir: Path):
    """Queries (id, text, gold names), corpus [(name, text)], dev ids, stopwords."""
    raw = json.loads((stard_dir / "queries.json").read_text(encoding="utf-8"))
    corpus, seen, queries = [], set(), []
    for q in raw:
        for name, text in q["相关法规"].items():
            if name not in seen:
                seen.add(name)
                corpus.append((name, f"{name}\n{text}"))
        queries.append((int(q["query_id"]), q["问题"], list(q["match_name"])))
    dev = set()
    for line in (stard_dir / "qrels.dev.tsv").read_text(encoding="utf-8").splitlines():
        first = line.split("\t")[0].strip()
        if first.isdigit():
            dev.add(int(first))
    stop = {
        w.strip()
        for w in (stard_dir / "cn_stopwords.txt").read_text(encoding="utf-8").splitlines()
        if w.strip()
    }
    return queries, corpus, dev, stop


def make_tokenizer(search_mode: bool, stop: set):
    import jieba

    cut = jieba.lcut_for_search if search_mode else jieba.lcut

    def tokenize(text: str):
        # Drop stopwords and the whitespace/newline tokens jieba emits.
        return [t for t in cut(text) if t.strip() and t not in stop]

    return tokenize


def build_peer(peer: str, corpus, stop: set, bm25s_threads: int):
    """Tokenizes and indexes the corpus; returns (search(question) -> top-10 ids, build seconds)."""
    import numpy as np

    tokenize = make_tokenizer(peer == "bm25s_search", stop)
    ids = [name for name, _ in corpus]
    t0 = time.perf_counter()
    docs_tokens = [tokenize(text) for _, text in corpus]
    if peer in ("bm25s", "bm25s_search"):
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(docs_tokens, show_progress=False)

        def search(question: str):
            res, _ = retriever.retrieve(
                [tokenize(question)], k=10, show_progress=False, n_threads=bm25s_threads
            )
            return [ids[i] for i in res[0]]

    elif peer == "rank_bm25":
        from rank_bm25 import BM25Okapi

        bm25 = BM25Okapi(docs_tokens)

        def search(question: str):
            scores = bm25.get_scores(tokenize(question))
            return [ids[i] for i in np.argsort(-scores, kind="stable")[:10]]

    else:
        raise ValueError(peer)
    return search, time.perf_counter() - t0


def score(ranked, gold):
    """recall@1/3/5/10, reciprocal rank, nDCG@10 of one top-10 list (duplicates count once)."""
    gold = set(gold)
    if not gold:
        return [0.0] * 6
    top, seen = [], set()
    for d in ranked:
        if d not in seen:
            seen.add(d)
            top.append(d)
    top = top[:10]
    recalls = [sum(1 for d in top[:k] if d in gold) / len(gold) for k in (1, 3, 5, 10)]
    rr = next((1.0 / (i + 1) for i, d in enumerate(top) if d in gold), 0.0)
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(top) if d in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), 10)))
    return recalls + [rr, dcg / ideal]


def percentile(values, p):
    """Nearest-rank percentile, as evals/src/metrics.rs."""
    if not values:
        return 0.0
    v = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(v)))
    return v[min(rank, len(v)) - 1]


def report(peer, split, rows, lat, n_docs, build_s):
    n = len(rows)
    mean = [sum(r[i] for r in rows) / max(n, 1) for i in range(6)]
    keys = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10")
    out = {"peer": peer, "split": split, "n_queries": n, "n_docs": n_docs}
    out.update({k: round(m, 4) for k, m in zip(keys, mean)})
    out["latency_ms_p50"] = round(percentile(lat, 50), 3)
    out["latency_ms_p99"] = round(percentile(lat, 99), 3)
    out["build_s"] = round(build_s, 3)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stard-dir", type=Path, default=DEFAULT_STARD,
                    help=f"STARD-mini folder (default: {DEFAULT_STARD})")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of " + ",".join(PEERS))
    ap.add_argument("--bm25s-threads", type=int, default=1,
                    help="n_threads for bm25s.retrieve (1 = one worker thread, as the benchmark runs it; "
                         "0 = bm25s's sequential path in the calling thread)")
    args = ap.parse_args()

    if not (args.stard_dir / "queries.json").is_file():
        print(f"skip: STARD-mini benchmark not found at {args.stard_dir} (it lives in ../shared)")
        return 0

    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for p in peers:
        if p not in PEERS:
            ap.error(f"unknown peer {p!r}; choose from {', '.join(PEERS)}")

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()  # load the dictionary before any timing

    queries, corpus, dev, stop = load(args.stard_dir)
    n_docs = len(corpus)
    dev_idx = [i for i, (qid, _, _) in enumerate(queries) if qid in dev]

    for peer in peers:
        search, build_s = build_peer(peer, corpus, stop, args.bm25s_threads)
        for _, text, _ in queries[:10]:
            search(text)
        rows, lat = [], []
        for _, text, gold in queries:
            t0 = time.perf_counter()
            ranked = search(text)
            lat.append((time.perf_counter() - t0) * 1000.0)
            rows.append(score(ranked, gold))
        print(json.dumps(report(peer, "all", rows, lat, n_docs, build_s), ensure_ascii=False), flush=True)
        print(json.dumps(report(peer, "dev", [rows[i] for i in dev_idx], [lat[i] for i in dev_idx],
                                n_docs, build_s), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
