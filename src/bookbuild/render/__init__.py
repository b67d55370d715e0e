"""Renderers: Book -> bytes of one format. Format-specific code lives only here."""
