"""Generated test corpus: realistic Chinese customer documents as a scanner delivers them.

Public surface: :class:`SampleCustomer`, :class:`SampleDocument`, :func:`make_customers`,
:func:`make_documents` (content with ground truth), :class:`Degradation`, ``CLEAN``,
:func:`render_page`, :func:`render_document`, :func:`write_document`,
:func:`generate_corpus` (rendering). Nothing here is committed data: everything is drawn
from a seed.
"""

from archive.corpus.documents import SampleCustomer, SampleDocument, make_customers, make_documents
from archive.corpus.render import (
    CLEAN,
    FORMATS,
    Degradation,
    generate_corpus,
    render_document,
    render_page,
    write_document,
)

__all__ = [
    "CLEAN",
    "FORMATS",
    "Degradation",
    "SampleCustomer",
    "SampleDocument",
    "generate_corpus",
    "make_customers",
    "make_documents",
    "render_document",
    "render_page",
    "write_document",
]
