"""Pick the search backend named in the settings."""

from search.base import SearchBackend
from search.settings import SearchSettings


def make_search(settings: SearchSettings) -> SearchBackend:
    if settings.backend == "elasticsearch":
        from search.elasticsearch import ElasticsearchSearch

        return ElasticsearchSearch(settings.elasticsearch)
    from search.embedded import EmbeddedSearch

    return EmbeddedSearch(settings.embedded)
