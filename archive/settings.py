from functools import lru_cache


@lru_cache
def get_settings():
    return None
