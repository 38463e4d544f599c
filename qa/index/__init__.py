"""Chunks to a searchable index: the embedder, the store boundary (``store``) with its embedded
(FAISS + SQLite) and PostgreSQL implementations, the FAISS index kind (``vector_index``), the embedded
store's folder of generations (``index_dir``), and the incremental sync of a folder (``indexer``)."""
