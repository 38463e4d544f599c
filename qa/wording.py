"""Words for people: a count with its noun ("1 document", "2 documents")."""


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
