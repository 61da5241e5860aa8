/* The rune's models on the device: Rune's own engine, reading each model and its plan in place
   from the .rune in flash, with one arena in RAM. */
#ifndef RUNE_MODELS_H
#define RUNE_MODELS_H

#include <stdint.h>

const char *models_init(void);  /* NULL, or why a model cannot run */
/* Run model `index`: tensors[] are the rune's buffers, inputs then outputs. */
int models_infer(uint32_t index, uint8_t *const *tensors, const uint32_t *bytes, uint32_t count);

#endif
