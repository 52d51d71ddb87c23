"""Bytes and text for the planning parts that travel between processes and machines.

A part of a decomposed plan (:mod:`planner.pipeline.decompose`) is a sub-region, its planning
options and, back, its routes: frozen dataclasses of :mod:`planner.domain`. They go to a local
worker process or, through a Celery broker, to another machine. :func:`pack` pickles them (with
``MappingProxyType`` and numpy scalars reduced to plain values), compresses and base64-encodes
them, so the text fits a JSON task message. :func:`unpack` loads only an allow-list of types:
builtin containers and numbers, dates and times, read-only mappings and the classes of
:data:`SAFE_MODULES` (nothing else can be named by a message, so no function can be called by
it). ``unpack(..., trusted=True)`` lifts the restriction for data this process made itself or
got from its own child processes (e.g. a road-network travel provider in a local pool).
"""
from __future__ import annotations

import base64
import copyreg
import io
import pickle
import zlib
from types import MappingProxyType
from typing import Any

import numpy as np

SAFE_MODULES = frozenset({"planner.domain", "planner.pipeline.decompose", "planner.geo.travel"})
SAFE_BUILTINS = frozenset({"int", "float", "bool", "str", "bytes", "tuple", "list", "dict", "set", "frozenset",
                           "complex"})
SAFE_OTHER = frozenset({("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"),
                        ("datetime", "timedelta"), ("datetime", "timezone"),
                        ("planner.pipeline.codec", "mapping_proxy")})


class UnsafePayload(pickle.UnpicklingError):
    """The payload names a type outside the allow-list."""


def mapping_proxy(items: dict) -> MappingProxyType:
    """A read-only mapping (how a packed ``MappingProxyType`` is rebuilt)."""
    return MappingProxyType(items)


def _reduce_mapping_proxy(m: MappingProxyType) -> tuple:
    return mapping_proxy, (dict(m),)


class _Pickler(pickle.Pickler):
    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[MappingProxyType] = _reduce_mapping_proxy

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, np.generic):  # numpy scalars (engine figures) as plain Python values
            value = obj.item()
            return type(value), (value,)
        return NotImplemented


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in SAFE_BUILTINS:
            return super().find_class(module, name)
        if (module, name) in SAFE_OTHER:
            return super().find_class(module, name)
        if module in SAFE_MODULES:
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise UnsafePayload(f"a planning payload may not contain {module}.{name}")


def pack(obj: Any) -> str:
    """``obj`` as compact ASCII text (pickle, zlib, base64)."""
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return base64.b64encode(zlib.compress(buf.getvalue(), 1)).decode("ascii")


def unpack(text: str, *, trusted: bool = False) -> Any:
    """The object :func:`pack` made. Untrusted text may only hold allow-listed types
    (:class:`UnsafePayload` otherwise)."""
    data = zlib.decompress(base64.b64decode(text.encode("ascii")))
    if trusted:
        return pickle.loads(data)
    return _SafeUnpickler(io.BytesIO(data)).load()
