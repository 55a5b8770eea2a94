"""The versioned, cited knowledge base: models and the explicit, cached loader."""

from mbcpath.kb.loader import KnowledgeBase, default_kb_path, load_kb, load_kb_from

__all__ = ["KnowledgeBase", "default_kb_path", "load_kb", "load_kb_from"]
