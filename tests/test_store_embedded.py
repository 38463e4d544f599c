"""The embedded store's segments: a segment switches its FAISS index kind with its size
(qa.index.vector_index); later builds delete documents of older segments without rewriting them, rewrite
a segment once it is mostly deleted, and merge segments that pile up; ids, removals, BM25 and scores
survive each write and a read."""

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
