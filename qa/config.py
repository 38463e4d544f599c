"""Settings that shape the index. Changing any of them makes an existing index stale."""

from __future__ import annotations

from dataclasses import asdict, dataclass

FORMAT_VERSION = 1

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBED_DIM = 384
# The model reads at most 256 word pieces, [CLS] and [SEP] included.
MODEL_WINDOW = 256
MAX_WORDPIECES = MODEL_WINDOW - 2

TIKTOKEN_ENCODING = "cl100k_base"

DEFAULT_INDEX_DIR = "index"
DEFAULT_CORPUS_DIR = "seeds"

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".pptx", ".odt", ".epub", ".rtf",
                      ".png", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass(frozen=True)
class ChunkerSettings:
    """How documents are cut into chunks (tiktoken tokens, with a word-piece cap)."""

    max_tokens: int = 200
    overlap_tokens: int = 40
    max_wordpieces: int = MAX_WORDPIECES
    encoding: str = TIKTOKEN_ENCODING

    def as_dict(self) -> dict:
        return asdict(self)
