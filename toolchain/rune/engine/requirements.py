"""What the engine requires of a model beyond being a well-formed .tflite file (rune.tflite checks
that): one subgraph, static shapes of sensible size, plain quantization, constants of types it can
read in place. Whether it has each operator is the operator planners' business (ops/)."""

from rune.engine.dtypes import NUMPY_TYPES
from rune.engine.errors import Unsupported
from rune.tflite.model import ModelError, ModelInfo, Tensor

MAX_RANK = 6
MAX_ELEMENTS = 1 << 24  # 16 M elements: far beyond any microcontroller's tensor


def check_model(model: ModelInfo) -> None:
    """Raises Unsupported for what the engine cannot run, ModelError for an inconsistent model."""
    if model.subgraphs != 1:
        raise Unsupported(f"the model has {model.subgraphs} subgraphs; the engine runs models with exactly one")
    for tensor in model.tensors:
        _check_tensor(tensor)


def _check_tensor(t: Tensor) -> None:
    what = t.label()
    if len(t.shape) > MAX_RANK:
        raise Unsupported(f"{what}: rank {len(t.shape)} exceeds {MAX_RANK}")
    if any(d < 0 for d in t.shape):
        raise Unsupported(f"{what}: dynamic dimensions are not supported")
    if t.count > MAX_ELEMENTS:
        raise Unsupported(f"{what}: {t.count} elements is beyond any microcontroller")
    if t.sparse:
        raise Unsupported(f"{what}: sparse tensors are not supported")
    q = t.quantization
    if q.custom:
        raise Unsupported(f"{what}: custom quantization details are not supported")
    if len(q.zero_points) != len(q.scales):
        raise ModelError(f"{what}: {len(q.scales)} scales but {len(q.zero_points)} zero points")
    if any(not -(1 << 31) <= z < (1 << 31) for z in q.zero_points):
        raise ModelError(f"{what}: a zero point does not fit in int32")
    if t.is_constant:
        if t.type_code not in NUMPY_TYPES:
            raise Unsupported(f"{what}: constants of type {t.type_name.lower()} are not supported")
        if t.constant_bytes != t.bytes:
            raise ModelError(f"{what}: its buffer holds {t.constant_bytes} bytes, the shape needs {t.bytes}")
