"""The embedded store's segments: a segment switches its FAISS index kind with its size
(qa.index.vector_index); later builds delete documents of older segments without rewriting them, rewrite
a segment once it is mostly deleted, and merge segments that pile up; ids, removals, BM25 and scores
survive each write and a read."""

import pytest

from qa.index import store_embedded, vector_index
from qa.index.store_embedded import EmbeddedStore
from qa.ingest.chunker import Chunk
from qa.ingest.documents import Document
from qa.ingest.lexical import query_terms

from .test_vector_index import clustered


def add(store, name, vectors, word=None):
    words = [f"{word or name.split('.')[0]}{i}" for i in range(len(vectors))]
    text = " ".join(f"{w}." for w in words)
    starts = [text.index(f"{w}.") for w in words]
    chunks = [Chunk(s, s + len(w) + 1, f"{w}.", sentences=[(s, s + len(w) + 1)]) for s, w in zip(starts, words)]
    doc = Document(name, "txt", text)
    store.add_document(doc, sha256=name, size=len(text), mtime=0.0, indexed_at=0.0, chunks=chunks,
                       chunk_vectors=vectors, sentence_vectors=[v[None, :] for v in vectors])


def build(folder, state, change):
    """One build on ``folder``: ``change(store)`` then save; returns the new state (as a manifest keeps it)."""
    store = EmbeddedStore(folder, state, writable=True)
    change(store)
    store.save()
    state = dict(store.state)
    store.close()
    return state


def test_a_segment_turns_ivf_when_large_and_a_mostly_deleted_one_is_rewritten_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_MAX", 1000)
    x = clustered(2400, seed=1)
    parts = {"big.txt": x[:1200], "mid.txt": x[1200:2100], "small.txt": x[2100:]}

    def add_all(store):
        for name, vecs in parts.items():
            add(store, name, vecs)

    state = build(tmp_path, None, add_all)
    store = EmbeddedStore(tmp_path, state)  # read back, as the pipeline does
    assert len(store.segments) == 1
    assert vector_index.describe(store.segments[0].vectors).startswith("IVF") and store.vector_count == 2400
    ids = store.chunk_ids_of("mid.txt")
    hits = [store.dense_search(parts["mid.txt"][i], 1)[0][0] for i in range(0, 900, 90)]
    assert hits == ids[0:900:90]
    assert store.dense_scores([ids[5]], parts["mid.txt"][5])[ids[5]] > 0.98  # 8-bit copy of itself
    small = store.chunk_ids_of("small.txt")
    store.close()

    # a removal only marks the document deleted: the segment's files stay as they are
    state = build(tmp_path, state, lambda s: s.remove_document("mid.txt"))
    store = EmbeddedStore(tmp_path, state)
    assert state["segments"] == [{"name": "seg-000001", "deleted_docs": [2]}]
    assert store.n_chunks == store.vector_count == 1500
    assert all(store.dense_search(v, 1)[0][0] not in ids for v in parts["mid.txt"][:50])
    assert store.chunks(ids[:3]) == [] and store.chunk_ids_of("mid.txt") == []
    assert store.lexical_search(query_terms("mid7"), 5) == []
    assert [d.source for d in store.documents()] == ["big.txt", "small.txt"]
    store.close()

    # with most of it deleted, the segment is rewritten (exact again: 300 vectors), ids kept
    state = build(tmp_path, state, lambda s: s.remove_document("big.txt"))
    store = EmbeddedStore(tmp_path, state)
    assert [s["name"] for s in state["segments"]] == ["seg-000002"] and state["segments"][0]["deleted_docs"] == []
    assert not (tmp_path / "seg-000001.sqlite").exists()
    assert vector_index.describe(store.segments[0].vectors).startswith("Flat") and store.vector_count == 300
    assert store.chunk_ids_of("small.txt") == small
    assert [store.dense_search(v, 1)[0][0] for v in parts["small.txt"][:20]] == small[:20]
    assert store.dense_scores([small[0]], parts["small.txt"][0])[small[0]] > 0.98
    assert store.lexical_search(query_terms("small7"), 1)[0][0] == small[7]
    assert store.chunks([small[7]])[0].text == "small7."
    store.close()


def test_segments_that_pile_up_are_merged_and_every_chunk_stays_findable(tmp_path, monkeypatch):
    monkeypatch.setattr(store_embedded, "MAX_SEGMENTS", 3)
    x = clustered(60, seed=2)
    state = None
    for n in range(6):  # six builds, each adding one document: six segments before merging
        state = build(tmp_path, state, lambda s, n=n: add(s, f"doc{n}.txt", x[n * 10:(n + 1) * 10], word=f"w{n}x"))
        assert len(state["segments"]) <= 3
    state = build(tmp_path, state, lambda s: s.remove_document("doc2.txt"))
    store = EmbeddedStore(tmp_path, state)
    assert [d.source for d in store.documents()] == [f"doc{n}.txt" for n in (0, 1, 3, 4, 5)]
    assert store.n_chunks == store.vector_count == 50
    for n in (0, 1, 3, 4, 5):
        ids = store.chunk_ids_of(f"doc{n}.txt")
        assert ids == list(range(n * 10 + 1, n * 10 + 11))  # ids handed out once, kept by merges
        assert store.dense_search(x[n * 10 + 4], 1)[0][0] == ids[4]
        assert store.lexical_search(query_terms(f"w{n}x4"), 1)[0][0] == ids[4]
        assert store.chunks([ids[4]])[0].sentence_vectors[0] @ x[n * 10 + 4] > 0.999  # float16 copy
    assert store.chunk_ids_of("doc2.txt") == [] and store.lexical_search(query_terms("w2x4"), 3) == []
    store.close()
    left = {p.name for p in tmp_path.glob("seg-*.sqlite")}
    assert left == {s["name"] + ".sqlite" for s in state["segments"]}, "merged segments' files are removed"


def test_lexical_search_ranks_by_exact_bm25_despite_one_byte_lengths(tmp_path):
    """tantivy keeps lengths in one byte (coarse past 40 terms): the best hits are scored again exactly."""
    import math
    import random
    from collections import Counter

    rng = random.Random(3)
    vocab = [f"word{i}" for i in range(40)]
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(20, 300))) + "." for _ in range(80)]
    x = clustered(len(texts), seed=4)

    def add_texts(store):
        for n, text in enumerate(texts):
            chunk = Chunk(0, len(text), text, sentences=[(0, len(text))])
            store.add_document(Document(f"t{n:02d}.txt", "txt", text), sha256="s", size=1, mtime=0.0, indexed_at=0.0,
                               chunks=[chunk], chunk_vectors=x[n:n + 1], sentence_vectors=[x[n:n + 1]])

    state = build(tmp_path, None, add_texts)
    store = EmbeddedStore(tmp_path, state)
    docs = [t.rstrip(".").split() for t in texts]
    avgdl = sum(map(len, docs)) / len(docs)
    ids = {store.chunk_ids_of(f"t{n:02d}.txt")[0]: n for n in range(len(texts))}
    for query in (["word1", "word2"], ["word3", "word17", "word29"], ["word5"]):
        df = {t: sum(t in d for d in docs) for t in query}

        def bm25(d, df=df, query=query):
            tf = Counter(d)
            return sum(math.log1p((len(docs) - df[t] + 0.5) / (df[t] + 0.5)) * tf[t] * 2.2
                       / (tf[t] + 1.2 * (0.25 + 0.75 * len(d) / avgdl)) for t in query if tf[t])

        exact = sorted(((bm25(d), n) for n, d in enumerate(docs)), reverse=True)[:10]
        hits = store.lexical_search(query, 10)
        assert [ids[i] for i, _ in hits] == [n for _, n in exact], query
        assert [s for _, s in hits] == [pytest.approx(s, rel=1e-9) for s, _ in exact]
        quantized = store.lexical.search(query, 10)
        assert quantized != hits  # the one-byte lengths alone rank or score these otherwise
    store.close()
