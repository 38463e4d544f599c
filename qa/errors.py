"""Errors a user can cause. The CLI prints their message on one line and exits non-zero."""


class QAError(Exception):
    """Base class: a problem the user can fix (bad path, empty question, missing index...)."""


class IndexMissing(QAError):
    pass


class IndexIncompatible(QAError):
    pass


class IndexCorrupt(QAError):
    pass


class DocumentError(QAError):
    """A file that cannot be read as a document; the message is the one-line reason."""
