"""Scoring the engine on SQuAD-format data: the data (``squad``), the metrics (``metrics``) and the
``qa eval`` harness (``harness``)."""
