"""Errors of the ingest pipeline.

    IngestError
    ├── UnsupportedFileType   content is not PDF, TIFF, JPEG or PNG            (415)
    ├── EmptyFile             zero bytes, or a document with no pages          (422)
    ├── CorruptFile           the file cannot be parsed                        (422)
    ├── EncryptedFile         a password-protected PDF                         (422)
    ├── LimitExceeded         too many pages or pixels (bombs, absurd sizes)   (413)
    └── OcrUnavailable        the OCR engine is missing or failed (retryable)
"""


class IngestError(Exception):
    retryable = False


class UnsupportedFileType(IngestError):
    pass


class EmptyFile(IngestError):
    pass


class CorruptFile(IngestError):
    pass


class EncryptedFile(IngestError):
    pass


class LimitExceeded(IngestError):
    pass


class OcrUnavailable(IngestError):
    retryable = True
