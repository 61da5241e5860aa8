"""Rune's own TensorFlow Lite engine (docs/engine.md): a planner that turns a .tflite model into a
compact plan at build time, and the C runtime in firmware_templates/engine that executes the plan
over the unmodified model and one arena (natively on this computer through `native`)."""
