"""``qa stats``: what an index holds."""

from __future__ import annotations

import json
import time

from qa.cli.common import index_args, settings_from
from qa.settings import Settings


def register(sub, defaults: Settings) -> None:
    p = sub.add_parser("stats", help="what the index holds", description="Documents, chunks, model and size on disk.")
    index_args(p, defaults)
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--verify", action="store_true",
                   help="also hash every index file against its manifest (opening hashes only small or changed files)")
    p.set_defaults(func=lambda args: run(args, settings_from(args, defaults)))


def index_stats(location: str) -> dict:
    from qa.index.store import open_index

    index = open_index(location)
    store, manifest = index.open_metadata()
    try:
        docs = store.documents()
        return {
            "index": index.describe(),
            "store": index.kind,
            "generation": index.version_name(),
            "corpus": manifest.get("corpus"),
            "created": manifest.get("created"),
            "documents": len(docs),
            "chunks": store.n_chunks,
            "model": manifest["model"],
            "embed_dim": manifest["embed_dim"],
            "chunker": manifest["chunker"],
            "format_version": manifest["format_version"],
            "bytes_on_disk": index.disk_bytes(),
            "by_kind": by_kind(docs),
            "by_document": [{"source": d.source, "title": d.title, "kind": d.kind, "chunks": d.chunks,
                             "bytes": d.size, "indexed_at": d.indexed_at} for d in docs],
        }
    finally:
        store.close()
        index.close()


def by_kind(docs) -> dict:
    """Documents, chunks and file bytes per kind (txt, pdf, docx, image...), most documents first."""
    kinds: dict[str, dict] = {}
    for d in docs:
        k = kinds.setdefault(d.kind, {"documents": 0, "chunks": 0, "bytes": 0})
        k["documents"] += 1
        k["chunks"] += d.chunks
        k["bytes"] += d.size
    return dict(sorted(kinds.items(), key=lambda kv: (-kv[1]["documents"], kv[0])))


def run(args, settings: Settings) -> int:
    stats = index_stats(settings.location)
    if args.verify:
        from qa.index.store import open_index

        checked = open_index(settings.location).verify(full=True)  # damage: IndexCorrupt, one line
        stats["verified_files"] = checked
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"index:      {stats['index']} ({stats['store']} store, {stats['generation']}, built {stats['created']})")
    print(f"corpus:     {stats['corpus']}")
    print(f"documents:  {stats['documents']}")
    print(f"chunks:     {stats['chunks']}")
    print(f"model:      {stats['model']} ({stats['embed_dim']}-d)")
    c = stats["chunker"]
    print(f"chunker:    {c['max_tokens']} {c['encoding']} tokens, {c['overlap_tokens']} overlap, "
          f"<= {c['max_wordpieces']} word pieces")
    print(f"on disk:    {stats['bytes_on_disk'] / 1e6:.2f} MB")
    if args.verify:
        checked = stats["verified_files"]
        print("verified:   " + (f"{checked} files match their sha256" if checked is not None
                                else "nothing to hash (the database checks its own pages)"))
    if stats["by_kind"]:
        print("by type:    " + ", ".join(f"{kind} {k['documents']} ({k['chunks']} chunks)"
                                         for kind, k in stats["by_kind"].items()))
    for d in stats["by_document"]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(d["indexed_at"]))
        print(f"  {d['source']}  ({d['kind']}, {d['chunks']} chunks, {d['bytes']} bytes, indexed {when})")
    return 0
