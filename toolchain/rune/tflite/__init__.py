"""TensorFlow Lite models: a strict reader of the .tflite format and `rune model-info`."""
