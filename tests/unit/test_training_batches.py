"""qa train-reader's batching: windows of similar length together, each once, deterministic."""

import numpy as np

from qa.training.span_reader import batches_by_length


def test_training_batches_hold_every_window_once_and_group_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 250, size=1000)
    batches = batches_by_length(rng.permutation(1000), lengths, 32, rng, pool=10)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert [len(b) for b in batches].count(32) == len(batches) - 1  # one short batch: 1000 = 31 * 32 + 8
    padded = sum(len(b) * lengths[b].max() for b in batches)
    shuffled = sum(len(b) * lengths[b].max() for b in np.array_split(rng.permutation(1000), len(batches)))
    assert padded < 0.8 * shuffled  # far less padding than random batches
    again = batches_by_length(np.random.default_rng(1).permutation(1000), lengths, 32, np.random.default_rng(1), 10)
    assert [b.tolist() for b in again] == [b.tolist() for b in
                                           batches_by_length(np.random.default_rng(1).permutation(1000), lengths, 32,
                                                             np.random.default_rng(1), 10)]  # deterministic
