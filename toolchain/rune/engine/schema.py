"""The parts of TensorFlow Lite's schema (schema.fbs) the planner reads beyond rune.tflite: option
union types, fused activations and padding. Operator and type codes are rune.tflite.opcodes."""

from enum import IntEnum


class BuiltinOptions(IntEnum):
    """Type codes of the Operator.builtin_options union."""

    Conv2DOptions = 1
    DepthwiseConv2DOptions = 2
    Pool2DOptions = 5
    SVDFOptions = 6
    FullyConnectedOptions = 8
    SoftmaxOptions = 9
    ConcatenationOptions = 10
    AddOptions = 11
    MulOptions = 21
    ReducerOptions = 27
    SubOptions = 28
    StridedSliceOptions = 32
    UnidirectionalSequenceLSTMOptions = 71
    LeakyReluOptions = 75


class Activation(IntEnum):
    NONE = 0
    RELU = 1
    RELU_N1_TO_1 = 2
    RELU6 = 3
    TANH = 4
    SIGN_BIT = 5


class Padding(IntEnum):
    SAME = 0
    VALID = 1

