"""Model artifacts: XGBoost boosters as UBJSON bytes stored in the database, loaded once per process."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import xgboost as xgb

__all__ = ["booster_from_bytes", "booster_to_bytes"]

_CACHE: OrderedDict[str, xgb.Booster] = OrderedDict()
_LOCK = threading.Lock()
_CACHE_SIZE = 4


def booster_to_bytes(booster: xgb.Booster) -> bytes:
    return bytes(booster.save_raw(raw_format="ubj"))


def booster_from_bytes(raw: bytes) -> xgb.Booster:
    """The booster stored in `raw`; cached by content so every version loads once per process."""
    key = hashlib.sha1(raw).hexdigest()
    with _LOCK:
        booster = _CACHE.get(key)
        if booster is not None:
            _CACHE.move_to_end(key)
            return booster
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    with _LOCK:
        _CACHE[key] = booster
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return booster
