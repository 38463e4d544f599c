"""A question to a cited answer: retrieve candidates (``retriever``), fuse the two rankings
(``fusion``), read them (``reader``: sentence ranking and span picking; ``span_model``: the trained
span reader; ``answer_types``: what kind of span a question wants), turn scores into a confidence
(``confidence``), and the one pipeline that runs them in order (``pipeline.Answerer``), whose typed
results are in ``results``."""
