"""Files to chunks: read documents (``documents``), find sentences (``sentences``), count tokens
(``tokens``), cut chunks (``chunker``), and the word analysis shared by BM25 and the reader (``lexical``)."""
