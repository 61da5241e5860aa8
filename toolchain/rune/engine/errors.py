"""What the planner raises besides rune.tflite's ModelError."""

from rune.tflite.model import ModelError


class UnsupportedOperator(ModelError):
    """The model is well formed but uses an operator, type or option the engine lacks.

    A ModelError, so that callers who only care about "cannot run this model" need one except
    clause; `op_name` and `op_index` say which operator."""

    def __init__(self, op_name: str, op_index: int, detail: str):
        self.op_name = op_name
        self.op_index = op_index
        self.detail = detail
        super().__init__(f"operator {op_index} ({op_name}): {detail}")
