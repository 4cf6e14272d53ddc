"""Auto-filing reads a document's type, 户号 and date from its text."""

from __future__ import annotations

from archive.corpus import make_customers, make_documents
from archive.services.inbox import read_catalogue


def test_every_generated_document_is_read_right() -> None:
    docs = make_documents(make_customers(40, seed=11), seed=11, per_customer=3)
    assert len({d.doc_type for d in docs}) == 4
    for doc in docs:
        reading = read_catalogue(list(doc.pages))
        assert (reading.doc_type, reading.account, reading.doc_date) == (
            doc.doc_type, doc.customer.account, doc.doc_date), doc.pages[0][:80]
        assert reading.title == doc.title


def test_ocr_noise_in_spacing_and_width_is_tolerated() -> None:
    text = ("低压 居民 用电申请书\n申请编号：SQ20230522-6788\n户 号: ３３０６４５３７８９\n"
            "申请日期：2023年 5月22日")
    reading = read_catalogue([text])
    assert reading.doc_type == "用电申请书"
    assert reading.account == "3306453789"
    assert reading.doc_date is not None and reading.doc_date.isoformat() == "2023-05-22"


def test_what_is_not_there_is_left_empty() -> None:
    reading = read_catalogue(["会议纪要\n关于配电房改造的讨论\n户号：33012"])  # 5 digits only
    assert (reading.doc_type, reading.account, reading.doc_date) == ("", "", None)
    assert read_catalogue([]).title == ""
