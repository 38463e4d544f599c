"""qa.index.vector_index: the index kind by size, ids through remove / write / read, recall of the IVF kind."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from qa.index import vector_index as vi

DIM = 384


def clustered(n: int, seed: int = 0, centres: int = 200) -> np.ndarray:
    """L2-normalized vectors around random centres (embeddings cluster; uniform noise would not)."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, DIM)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_kind_by_size():
    assert isinstance(vi.new_vector_index(0), faiss.IndexIDMap2)
    assert isinstance(vi.new_vector_index(vi.EXACT_MAX), faiss.IndexIDMap2)
    big = vi.new_vector_index(1_000_000)
    assert isinstance(big, faiss.IndexIVFScalarQuantizer)
    assert big.nlist == 4096 and big.nprobe == vi.NPROBE_AT_4096
    assert big.metric_type == faiss.METRIC_INNER_PRODUCT
    assert vi.needs_training(big) and not vi.needs_training(vi.new_vector_index(10))
    assert vi.choose_nlist(10_000_000) == 16384
    assert vi.choose_nlist(300_000) == 2048
    assert vi.choose_nlist(5000) == 128  # at least ~39 vectors per list
    assert "IVF4096,SQ8 (nprobe=" in vi.describe(big)
    assert vi.describe(vi.new_vector_index(5)).startswith("Flat")


@pytest.mark.parametrize("exact_max", [10**9, 1000])
def test_ids_remove_write_read(tmp_path, exact_max):
    x = clustered(5000)
    ids = np.arange(5000, dtype=np.int64) * 7 + 1_000_003  # sparse chunk ids, beyond int32 offsets
    index = vi.build(x, ids, exact_max=exact_max)
    assert index.ntotal == 5000
    assert vi.supports_remove(index)
    # a vector finds its own id
    _, found = index.search(x[:5], 1)
    assert found[:, 0].tolist() == ids[:5].tolist()
    # remove a "document" (ids of three chunks), then they are gone
    gone = ids[[0, 1, 2]]
    assert index.remove_ids(gone) == 3
    assert index.ntotal == 4997
    _, found = index.search(x[:3], 10)
    assert not set(found.ravel().tolist()) & set(gone.tolist())
    # reconstruct(chunk id) works for both kinds (the pipeline scores hits with it)
    np.testing.assert_allclose(index.reconstruct(int(ids[10])), x[10], atol=0.02)
    # add again (incremental re-index), write, read: ids and parameters survive
    index.add_with_ids(x[:3], np.array([11, 12, 13], dtype=np.int64))
    path = tmp_path / "vectors.faiss"
    faiss.write_index(index, str(path))
    back = vi.configure_search(faiss.read_index(str(path)))
    assert back.ntotal == 5000
    assert vi.describe(back) == vi.describe(index)
    _, found = back.search(x[:3], 1)
    assert found[:, 0].tolist() == [11, 12, 13]
    _, found = back.search(x[100:103], 1)
    assert found[:, 0].tolist() == ids[100:103].tolist()
    np.testing.assert_allclose(back.reconstruct(int(ids[10])), x[10], atol=0.02)  # direct map written too
    back.remove_ids(np.array([12], dtype=np.int64))
    assert back.ntotal == 4999


def test_ivf_recall_against_exact():
    n = 20_000
    x = clustered(n, seed=1)
    q = clustered(200, seed=2)
    ids = np.arange(n, dtype=np.int64) + 1
    exact = vi.build(x, ids, exact_max=10**9)
    ivf = vi.build(x, ids, exact_max=1000)
    assert isinstance(ivf, faiss.IndexIVFScalarQuantizer)
    assert ivf.nlist == 512  # ~4 * sqrt(20k)
    assert ivf.nprobe == vi.choose_nprobe(512) == vi.NPROBE_MIN
    _, truth = exact.search(q, 10)
    _, got = ivf.search(q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth.tolist(), got.tolist())])
    assert recall >= 0.95, recall


def test_train_checks_sample_size():
    index = vi.new_vector_index(1_000_000)
    with pytest.raises(ValueError):
        vi.train(index, clustered(100))


def test_needs_rebuild():
    flat = vi.new_vector_index(10)
    assert not vi.needs_rebuild(flat, 1000)
    assert vi.needs_rebuild(flat, vi.EXACT_MAX + 1)
    ivf = vi.new_vector_index(1_000_000)
    assert not vi.needs_rebuild(ivf, 1_000_000)
    assert vi.needs_rebuild(ivf, 1000)
    assert vi.needs_rebuild(ivf, 10**9)


def test_hnsw_cannot_remove():
    h = faiss.IndexIDMap2(faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT))
    assert not vi.supports_remove(h)
