"""The embedded store switches its FAISS index kind with the corpus size (qa.index.vector_index) and keeps
answering through the switch, both ways; ids, removals and scores survive a write and a read."""


from qa.index import vector_index
from qa.index.store_embedded import EmbeddedStore
from qa.ingest.chunker import Chunk
from qa.ingest.documents import Document

from .test_vector_index import clustered


def add(store, name, vectors):
    text = " ".join(f"w{i}." for i in range(len(vectors)))
    chunks = [Chunk(i * 4, i * 4 + 3, f"w{i}.", sentences=[(i * 4, i * 4 + 3)]) for i in range(len(vectors))]
    doc = Document(name, "txt", text)
    store.add_document(doc, sha256=name, size=len(text), mtime=0.0, indexed_at=0.0, chunks=chunks,
                       chunk_vectors=vectors, sentence_vectors=[v[None, :] for v in vectors])


def test_the_vector_index_turns_ivf_when_large_and_exact_when_small_again(tmp_path, monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_MAX", 1000)
    x = clustered(2400, seed=1)
    parts = {"big.txt": x[:1200], "mid.txt": x[1200:2100], "small.txt": x[2100:]}
    store = EmbeddedStore(tmp_path, writable=True)
    for name, vecs in parts.items():
        add(store, name, vecs)
    store.save()
    assert vector_index.describe(store.vectors).startswith("IVF")
    store.close()

    store = EmbeddedStore(tmp_path)  # read back, as the pipeline does
    assert vector_index.describe(store.vectors).startswith("IVF") and store.vectors.ntotal == 2400
    ids = store.chunk_ids_of("mid.txt")
    hits = [store.dense_search(parts["mid.txt"][i], 1)[0][0] for i in range(0, 900, 90)]
    assert hits == ids[0:900:90]
    assert store.dense_scores([ids[5]], parts["mid.txt"][5])[ids[5]] > 0.98  # 8-bit copy of itself
    store.close()

    store = EmbeddedStore(tmp_path, writable=True)
    assert store.remove_document("big.txt") == 1200 and store.remove_document("mid.txt") == 900
    store.save()
    assert vector_index.describe(store.vectors).startswith("Flat") and store.vectors.ntotal == 300
    small = store.chunk_ids_of("small.txt")
    assert [store.dense_search(v, 1)[0][0] for v in parts["small.txt"][:20]] == small[:20]
    assert store.dense_scores([small[0]], parts["small.txt"][0])[small[0]] > 0.98
    store.close()
