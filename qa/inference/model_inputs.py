"""Word-piece arrays for the two networks, built from the one shared tokenizer.

BERT's inputs are ``[CLS] text [SEP]`` (the embedder) or ``[CLS] question [SEP] passage [SEP]`` (the span
reader, passage cut to fit), padded to the longest row of the batch. Assembling them here from plain
word pieces gives exactly what a tokenizer configured for truncation and padding gives, without making
a configured copy of the tokenizer for each network (a copy costs ~70 ms of every cold start), and the
shared tokenizer is never reconfigured, so any number of threads can use it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.ingest.tokens import wordpiece_tokenizer

CLS, SEP, PAD = 101, 102, 0  # all-MiniLM-L6-v2's (BERT uncased) special pieces


@dataclass
class Batch:
    """Model inputs for a batch, and where each row's pieces are in its text."""

    input_ids: np.ndarray  # int64 [rows, length]
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    # per row and position, the piece's character range in its text (embedder) or its passage (reader);
    # None for [CLS], [SEP], padding, and the reader's question
    offsets: list[list[tuple[int, int] | None]]
    truncated: list[bool]

    def feeds(self) -> dict[str, np.ndarray]:
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask,
                "token_type_ids": self.token_type_ids}


def _pad(rows: list[list[int]], types: list[list[int]], offsets: list[list]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays padded to the longest row; ``offsets`` rows are padded with None in place."""
    width = max(len(r) for r in rows)
    for row in offsets:
        row.extend([None] * (width - len(row)))
    ids = np.full((len(rows), width), PAD, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    type_ids = np.zeros((len(rows), width), dtype=np.int64)
    for i, (r, t) in enumerate(zip(rows, types)):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
        type_ids[i, : len(t)] = t
    return ids, mask, type_ids


def single_texts(texts: list[str], max_length: int) -> Batch:
    """``[CLS] text [SEP]`` per text, cut to ``max_length`` pieces; offsets of [CLS]/[SEP] are None."""
    encodings = wordpiece_tokenizer().encode_batch(list(texts), add_special_tokens=False)
    room = max_length - 2
    rows, offsets, truncated = [], [], []
    for enc in encodings:
        rows.append([CLS, *enc.ids[:room], SEP])
        offsets.append([None, *enc.offsets[:room], None])
        truncated.append(len(enc.ids) > room)
    ids, mask, type_ids = _pad(rows, [[0] * len(r) for r in rows], offsets)
    return Batch(ids, mask, type_ids, offsets, truncated)


def question_passages(question: str, passages: list[str], max_length: int) -> Batch:
    """``[CLS] question [SEP] passage [SEP]`` per passage; only the passage is cut to fit ``max_length``.
    Offsets point into each passage, None outside it."""
    tokenizer = wordpiece_tokenizer()
    q = tokenizer.encode(question, add_special_tokens=False).ids
    encodings = tokenizer.encode_batch(list(passages), add_special_tokens=False)
    room = max(max_length - len(q) - 3, 0)
    head = [CLS, *q, SEP]
    rows, types, offsets, truncated = [], [], [], []
    for enc in encodings:
        rows.append([*head, *enc.ids[:room], SEP])
        types.append([0] * len(head) + [1] * (len(enc.ids[:room]) + 1))
        offsets.append([None] * len(head) + list(enc.offsets[:room]) + [None])
        truncated.append(len(enc.ids) > room)
    ids, mask, type_ids = _pad(rows, types, offsets)
    return Batch(ids, mask, type_ids, offsets, truncated)
