"""What the planner raises besides rune.tflite's ModelError (a malformed model)."""

from rune.tflite.model import ModelError


class Unsupported(ModelError):
    """The model is well formed, but Rune's engine cannot run it: a limit, a type, an option.

    A ModelError, so that callers who only care about "cannot run this model" need one except
    clause."""


class UnsupportedOperator(Unsupported):
    """One operator is what the engine cannot run; `op_name` and `op_index` say which."""

    def __init__(self, op_name: str, op_index: int, detail: str):
        self.op_name = op_name
        self.op_index = op_index
        self.detail = detail
        super().__init__(f"operator {op_index} ({op_name}): {detail}")
