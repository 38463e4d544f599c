"""Fitting the span reader (``qa train-reader``)."""
