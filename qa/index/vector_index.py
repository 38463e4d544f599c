"""Which FAISS index holds the chunk vectors, chosen by how many there will be.

Measured in ``bench/scale.py`` (docs/BENCHMARKS.md, "Scale (1M chunks)"), one thread, one question at a
time, on 384-d vectors derived from real all-MiniLM-L6-v2 embeddings, 2 shared cores:

- exact ``IndexIDMap2(IndexFlatIP)`` scans 1.5 KB per vector per question: 13 ms p50 (19 ms with the
  machine loaded) and 0.30 GiB at 200k vectors, 60 ms (183 ms loaded) and 1.48 GiB at 1M, against a goal
  of p50 <= 50 ms. Fine up to ``EXACT_MAX``;
- ``IndexIVFScalarQuantizer`` (IVF4096, 8-bit scalar quantization, inner product) at 1M: 0.37 GiB,
  0.7 ms p50, recall@10 0.985 of exact at nprobe 64 (0.978 at 32); IVF2048 at 200k: 0.985 at nprobe 64,
  0.977 at 32. It keeps our int64 chunk ids itself (``add_with_ids``) and supports ``remove_ids``, which
  the incremental re-index needs (HNSW does not; IVF-PQ needs an exact re-rank, IndexRefine, which
  cannot remove, to pass 0.95). With a hash-table direct map it also answers ``reconstruct(chunk_id)``,
  as the flat index does (to 8-bit precision).

Usage::

    index = build(vectors, ids)              # new_vector_index(len(ids)) + train + add_with_ids
    faiss.write_index(index, path)
    index = configure_search(faiss.read_index(path))
    scores, ids = index.search(q, k)

or, for an index filled in pieces: ``index = new_vector_index(n_expected)``, then ``train(index, sample)``
when ``needs_training(index)``, then ``add_with_ids`` as usual. ``nprobe`` and the direct map are written
with the index (checked with faiss 1.15); ``configure_search`` sets ``nprobe`` anyway, so an index written
by an older version, or with a different ``nprobe``, searches as measured.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

from qa.config import EMBED_DIM

# Above this many vectors an exact scan costs more than ~13-19 ms per question on one core here (13 ms p50
# at 200k on a quiet machine, 60 ms at 1M), so the IVF index takes over. Below it exact search is fast enough, exact, and
# needs no training.
EXACT_MAX = 200_000

# IVF lists: ~4 * sqrt(n), a power of two (4096 at 1M vectors), with at least ~39 vectors per list.
MIN_NLIST = 16
MAX_NLIST = 65_536
MIN_PER_LIST = 39

# Lists searched: NPROBE_AT_4096 at nlist = 4096, the setting that gave recall@10 >= 0.95 of exact at 1M
# vectors in the scale benchmark (see docs/BENCHMARKS.md); the same fraction of the lists for other
# nlist, but never fewer than NPROBE_MIN lists.
NPROBE_AT_4096 = 64
NPROBE_MIN = 32

# Training: k-means wants ~40 vectors per list at least; more than 64 per list only costs time.
TRAIN_PER_LIST_MIN = 39
TRAIN_PER_LIST_MAX = 64


def choose_nlist(n_expected: int) -> int:
    """Number of IVF lists for ``n_expected`` vectors: a power of two near ``4 * sqrt(n)``."""
    n = max(n_expected, 1)
    nlist = 2 ** round(math.log2(4 * math.sqrt(n)))
    while nlist > MIN_NLIST and n / nlist < MIN_PER_LIST:
        nlist //= 2
    return int(min(MAX_NLIST, max(MIN_NLIST, nlist)))


def choose_nprobe(nlist: int) -> int:
    """nprobe for ``nlist`` lists: the same fraction of lists as the measured setting at 4096."""
    return max(1, min(nlist, max(NPROBE_MIN, round(NPROBE_AT_4096 * nlist / 4096))))


def is_exact(n_expected: int, exact_max: int = EXACT_MAX) -> bool:
    return n_expected <= exact_max


def new_vector_index(n_expected: int = 0, dim: int = EMBED_DIM, exact_max: int = EXACT_MAX) -> faiss.Index:
    """An empty index for about ``n_expected`` L2-normalized vectors (inner product = cosine), keyed by
    int64 chunk ids. Exact ``IndexIDMap2(IndexFlatIP)`` up to ``exact_max``; above it an untrained
    ``IndexIVFScalarQuantizer`` (8-bit) with ``nprobe`` set and a hash-table direct map: call
    ``train(index, sample)`` before adding to it."""
    if is_exact(n_expected, exact_max):
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    nlist = choose_nlist(n_expected)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    # the IVF index owns its quantizer from now on (otherwise Python would free it under the index)
    quantizer.this.disown()
    index.own_fields = True
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct(id) and remove_ids both work
    index.nprobe = choose_nprobe(nlist)
    return index


def ivf_of(index: faiss.Index):
    """The IVF index inside ``index`` (itself, or wrapped), or None."""
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def needs_training(index: faiss.Index) -> bool:
    return not index.is_trained


def train(index: faiss.Index, sample: np.ndarray, seed: int = 0) -> None:
    """Train an IVF index (coarse k-means and the 8-bit ranges) on a sample of the vectors to be added;
    a no-op for an exact index. Uses at most 64 vectors per list (drawn at random); needs at least
    ``nlist`` vectors, and ~39 per list for a good clustering."""
    if index.is_trained:
        return
    sample = np.asarray(sample, dtype=np.float32)
    ivf = ivf_of(index)
    nlist = ivf.nlist if ivf is not None else 1
    if len(sample) < nlist:
        raise ValueError(f"need at least {nlist} training vectors for {nlist} lists, got {len(sample)}")
    cap = TRAIN_PER_LIST_MAX * nlist
    if len(sample) > cap:
        rows = np.sort(np.random.default_rng(seed).choice(len(sample), cap, replace=False))
        sample = sample[rows]
    index.train(np.ascontiguousarray(sample))


def build(vectors: np.ndarray, ids: np.ndarray, n_expected: int | None = None, exact_max: int = EXACT_MAX) -> faiss.Index:
    """A filled index for ``vectors`` [n, dim] (L2-normalized) with int64 ``ids``: ``new_vector_index``
    sized for ``n_expected`` (default ``len(ids)``), trained on the vectors if needed."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if len(vectors) != len(ids):
        raise ValueError("vectors and ids differ in length")
    index = new_vector_index(len(ids) if n_expected is None else n_expected, dim=vectors.shape[1], exact_max=exact_max)
    if needs_training(index):
        train(index, vectors)
    step = 100_000
    for s in range(0, len(ids), step):
        index.add_with_ids(vectors[s : s + step], ids[s : s + step])
    return index


def configure_search(index: faiss.Index, nprobe: int | None = None) -> faiss.Index:
    """Set the search parameters of an index just read with ``faiss.read_index`` (``nprobe`` for IVF:
    ``choose_nprobe(nlist)`` unless given); returns the index. A no-op for an exact index."""
    ivf = ivf_of(index)
    if ivf is not None:
        ivf.nprobe = nprobe if nprobe is not None else choose_nprobe(ivf.nlist)
    return index


def supports_remove(index: faiss.Index) -> bool:
    """Whether ``remove_ids`` works (flat and IVF: yes; HNSW: no)."""
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    return not isinstance(inner, (faiss.IndexHNSW, faiss.IndexRefine))


def needs_rebuild(index: faiss.Index, n_now: int, exact_max: int = EXACT_MAX) -> bool:
    """Whether the index kind no longer suits ``n_now`` vectors: an exact index grown past ``exact_max``,
    or an IVF index whose list count is off by more than 4x from ``choose_nlist(n_now)`` (or that has
    fallen back under ``exact_max / 2``)."""
    ivf = ivf_of(index)
    if ivf is None:
        return not is_exact(n_now, exact_max)
    if n_now <= exact_max // 2:
        return True
    want = choose_nlist(n_now)
    return not (want / 4 <= ivf.nlist <= want * 4)


def describe(index: faiss.Index) -> str:
    """One line: kind, size and search parameters, e.g. ``IVF4096,SQ8 (nprobe=64), 1000000 vectors``."""
    ivf = ivf_of(index)
    if ivf is not None:
        inner = faiss.downcast_index(ivf)
        if isinstance(inner, faiss.IndexIVFScalarQuantizer):
            kind = f"IVF{ivf.nlist},SQ8" if inner.sq.qtype == faiss.ScalarQuantizer.QT_8bit else f"IVF{ivf.nlist},SQ"
        elif isinstance(inner, faiss.IndexIVFPQ):
            kind = f"IVF{ivf.nlist},PQ{inner.pq.M}"
        else:
            kind = f"IVF{ivf.nlist}"
        return f"{kind} (nprobe={ivf.nprobe}), {index.ntotal} vectors, dim {index.d}"
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    if isinstance(inner, faiss.IndexFlat):
        kind = "Flat (exact, inner product)"
    elif isinstance(inner, faiss.IndexHNSW):
        kind = f"HNSW{inner.hnsw.nb_neighbors(1)} (efSearch={inner.hnsw.efSearch})"
    else:
        kind = type(inner).__name__
    return f"{kind}, {index.ntotal} vectors, dim {index.d}"
