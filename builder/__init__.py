"""builder: Markdown and a bibliography in, a print-ready PDF, an EPUB 3 and an HTML page out."""
__version__ = "0.1.0"
