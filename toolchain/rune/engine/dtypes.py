"""The element types the engine holds in memory, as numpy types (plans store their TFLite codes)."""

from __future__ import annotations

import numpy as np

from rune.tflite.opcodes import TypeCode

NUMPY_TYPES = {TypeCode.FLOAT32: np.float32, TypeCode.INT32: np.int32, TypeCode.UINT8: np.uint8,
               TypeCode.INT64: np.int64, TypeCode.BOOL: np.bool_, TypeCode.INT16: np.int16, TypeCode.INT8: np.int8}


def numpy_dtype(type_code: int) -> np.dtype:
    return np.dtype(NUMPY_TYPES[type_code])
