"""Anki interoperability: reading packages safely (``package``), HTML to Markdown
(``markdown``), notes to drafts (``drafts``, ``importer``), review history
(``history``) and export (``export``)."""
