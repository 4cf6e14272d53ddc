"""A labelled search query set over the generated corpus, for relevance measurement.

The judgements come from how the corpus was generated (whose account, name or address a
record carries; which document a page phrase was taken from), never from running a search,
so a search that ranks badly scores badly.

Query kinds, as business clerks ask them:

- ``account``: a 户号; relevant: every record of that customer.
- ``name``: a customer's name (户名); relevant: the records of every customer so named.
- ``address``: a customer's address, or its street and number alone.
- ``phrase``: a distinctive value from one document's page (a form value such as a
  inspection finding or a clause figure), plain and "quoted"; relevant: that document.
- ``mixed``: Chinese with ASCII: a document number (GDHT-2024-123646), or a document type
  with an account ("供用电合同 3301596853"); relevant: that document or those documents.
- ``variant``: typed another way: an account in full-width digits, a document number in
  lower case, a name in traditional characters.

Public surface: :class:`LabelledQuery`, :func:`labelled_queries`,
:func:`search_documents`, :func:`record_id`.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass

from archive.corpus.documents import SampleDocument
from search.personal import find_personal

_ADDRESS_TAIL = re.compile(r"[区县市]([^区县市]+?[路街道巷]\d+号)")
_DOC_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,5}-?\d{4,}(?:-\d+)*(?![A-Za-z0-9])")

_FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}
# a few characters of names and addresses as a traditional-character form writes them
_TRADITIONAL = str.maketrans("东华国杭阳兴长张刘陈伟强丽红军龙", "東華國杭陽興長張劉陳偉強麗紅軍龍")


@dataclass(frozen=True)
class LabelledQuery:
    kind: str
    q: str
    relevant: frozenset[str]  # record ids


def record_id(index: int) -> str:
    return f"rec{index:06d}"


def search_documents(documents: list[SampleDocument], *, unit: str = "xh",
                     unit_path: str = "/root/hz/xh/") -> list:
    """The corpus as :class:`search.SearchDocument` values, ids from :func:`record_id`."""
    from search import SearchDocument

    return [
        SearchDocument(
            record_id=record_id(i), dossier_id=f"dos-{doc.customer.account}-{doc.category}",
            customer_account=doc.customer.account, customer_name=doc.customer.name,
            doc_type=doc.doc_type, category=doc.category, title=doc.title,
            doc_date=doc.doc_date, unit=unit, unit_path=unit_path, security_level="内部",
            address=doc.customer.address, customer_class=doc.customer.customer_class,
            pages=tuple((n, text) for n, text in enumerate(doc.pages, 1)),
        )
        for i, doc in enumerate(documents)
    ]


def _distinctive_values(documents: list[SampleDocument]) -> dict[int, list[str]]:
    """Per document, the form values (after "label：") no other document holds as a value
    and none of its catalogue fields contains (:func:`labelled_queries` then checks the
    one it picks against every text)."""
    seen: dict[str, set[int]] = defaultdict(set)
    for i, doc in enumerate(documents):
        for page in doc.pages:
            for line in page.splitlines():
                _, colon, value = line.partition("：")
                value = value.strip().rstrip("。")
                if colon and 6 <= len(value) <= 24:
                    seen[value].add(i)
    found: dict[int, list[str]] = defaultdict(list)
    for value, holders in seen.items():
        if len(holders) != 1:
            continue
        (i,) = holders
        doc = documents[i]
        catalogue = (doc.title, doc.customer.name, doc.customer.address, doc.customer.account)
        # personal values are indexed masked: no query a clerk can make finds them
        if find_personal(value):
            continue
        if not any(value in field or field in value for field in catalogue):
            found[i].append(value)
    return found


def labelled_queries(documents: list[SampleDocument], *, seed: int = 0,
                     per_kind: int = 12) -> list[LabelledQuery]:
    """About ``per_kind`` queries of each kind (at least 50 in all for 12 a kind)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    by_account: dict[str, set[str]] = defaultdict(set)
    by_name: dict[str, set[str]] = defaultdict(set)
    by_address: dict[str, set[str]] = defaultdict(set)
    for i, doc in enumerate(documents):
        by_account[doc.customer.account].add(record_id(i))
        by_name[doc.customer.name].add(record_id(i))
        by_address[doc.customer.address].add(record_id(i))
    customers = sorted({doc.customer.account: doc.customer for doc in documents}.values(),
                       key=lambda c: c.account)
    sample = rng.sample(customers, min(per_kind, len(customers)))
    queries: list[LabelledQuery] = []
    for customer in sample:
        queries.append(LabelledQuery("account", customer.account,
                                     frozenset(by_account[customer.account])))
    for customer in rng.sample(customers, min(per_kind, len(customers))):
        queries.append(LabelledQuery("name", customer.name,
                                     frozenset(by_name[customer.name])))
    for n, customer in enumerate(rng.sample(customers, min(per_kind, len(customers)))):
        tail = _ADDRESS_TAIL.search(customer.address)
        if n % 2 and tail:  # the street and number alone, as a clerk half remembers it
            phrase = tail.group(1)
            relevant = {rid for address, ids in by_address.items() if phrase in address
                        for rid in ids}
            queries.append(LabelledQuery("address", phrase, frozenset(relevant)))
        else:
            queries.append(LabelledQuery("address", customer.address,
                                         frozenset(by_address[customer.address])))
    values = _distinctive_values(documents)
    everything = "\x00".join(page for doc in documents for page in doc.pages)
    holders = rng.sample(sorted(values), len(values))
    phrases = 0
    for i in holders:
        unique = [v for v in sorted(values[i]) if everything.count(v) == 1]
        if not unique:
            continue
        value = rng.choice(unique)
        queries.append(LabelledQuery("phrase", f'"{value}"' if phrases % 2 else value,
                                     frozenset({record_id(i)})))
        phrases += 1
        if phrases == per_kind:
            break
    numbered = [(i, m.group(0)) for i, doc in enumerate(documents)
                if (m := _DOC_NUMBER.search(doc.pages[0]))]
    for _, number in rng.sample(numbered, min(per_kind // 2, len(numbered))):
        holding = {record_id(j) for j, doc in enumerate(documents)
                   if any(number in page for page in doc.pages)}
        queries.append(LabelledQuery("mixed", number, frozenset(holding)))
    for i in rng.sample(range(len(documents)), min(per_kind - per_kind // 2, len(documents))):
        doc = documents[i]
        relevant = {record_id(j) for j, other in enumerate(documents)
                    if other.customer.account == doc.customer.account
                    and other.doc_type == doc.doc_type}
        queries.append(LabelledQuery("mixed", f"{doc.doc_type} {doc.customer.account}",
                                     frozenset(relevant)))
    for n, (_, number) in enumerate(rng.sample(numbered, min(per_kind // 3, len(numbered)))):
        holding = {record_id(j) for j, doc in enumerate(documents)
                   if any(number in page for page in doc.pages)}
        queries.append(LabelledQuery("variant", number.lower() if n % 2 else
                                     number.translate(_FULL_WIDTH), frozenset(holding)))
    for customer in rng.sample(customers, min(per_kind // 3, len(customers))):
        queries.append(LabelledQuery("variant", customer.account.translate(_FULL_WIDTH),
                                     frozenset(by_account[customer.account])))
    traditional = [c for c in customers if set(c.name) & set(_TRADITIONAL)]
    for customer in rng.sample(traditional, min(per_kind // 3, len(traditional))):
        queries.append(LabelledQuery("variant", customer.name.translate(_TRADITIONAL),
                                     frozenset(by_name[customer.name])))
    return queries
