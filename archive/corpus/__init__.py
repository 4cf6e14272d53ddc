"""Synthetic test corpus: Chinese power-supply customer documents as a scanner delivers them.

Everything is generated in code, deterministically from a seed, together with the exact text of
every page (the ground truth for OCR and search tests). Nothing generated is committed.

Content (``archive.corpus.documents``):

- ``SampleCustomer``, ``SampleDocument``, ``DOC_TYPES`` (doc_type -> filing category)
- ``make_customers(count, *, seed)``, ``make_documents(customers, *, seed, per_customer)``
- ``id_check_digit(first17)``: GB 11643 check character of an ID number

Rendering and files (``archive.corpus.render``):

- ``Degradation`` (``Degradation.scanned(rng)``), ``CLEAN``
- ``render_page(text, ...)``, ``render_document(doc, ...)`` -> ``PIL.Image.Image`` pages
- ``write_document(doc, path, fmt, ...)`` for ``FORMATS``: "pdf-scan", "tiff", "jpeg", "png",
  "pdf-text"
- ``generate_corpus(out_dir, *, count, ...)``: files plus ``manifest.json``
- ``find_font(typeface)``, ``FontNotFoundError``: Noto CJK lookup (Debian ``fonts-noto-cjk``)
"""

from archive.corpus.documents import (
    DOC_TYPES,
    SampleCustomer,
    SampleDocument,
    id_check_digit,
    make_customers,
    make_documents,
)
from archive.corpus.render import (
    CLEAN,
    FORMATS,
    Degradation,
    FontNotFoundError,
    find_font,
    generate_corpus,
    render_document,
    render_page,
    write_document,
)

__all__ = [
    "CLEAN",
    "DOC_TYPES",
    "FORMATS",
    "Degradation",
    "FontNotFoundError",
    "SampleCustomer",
    "SampleDocument",
    "find_font",
    "generate_corpus",
    "id_check_digit",
    "make_customers",
    "make_documents",
    "render_document",
    "render_page",
    "write_document",
]
