/* 8-bit weights stored in a safetensors file (docs/weights.md, "8-bit weights in a file"): an I8
 * tensor KEY [R, C] with an F32, F16 or BF16 tensor KEY.scale of shape [R] (one scale per row)
 * or [R, C / 32] (one per 32 values of a row); value = scale * int8. Read as floats they are
 * dequantized; a program holding the weight 8-bit in the same layout takes them as they are. */
#include "graphs/graph.h"
#include "graphs/half.h"
#include "graphs/weights.h"

#include <stdio.h>
#include <string.h>

#define SCALE_SUFFIX ".scale"
#define BLOCK 32

/* The scale tensor of an I8 entry, or NULL when it has none of a usable dtype and shape. */
const weight_entry *weights_int8_scale(const porta_weights *w, const weight_entry *values)
{
    if (!values || strcmp(values->dtype, "I8") || values->rank != 2) return NULL;
    char key[1024];
    if (snprintf(key, sizeof key, "%s%s", values->name, SCALE_SUFFIX) >= (int)sizeof key)
        return NULL;
    const weight_entry *s = weights_find_entry(w, key);
    if (!s || (strcmp(s->dtype, "F32") && strcmp(s->dtype, "F16") && strcmp(s->dtype, "BF16")))
        return NULL;
    bool per_row = s->rank == 1 && s->dims[0] == values->dims[0];
    bool blocks = s->rank == 2 && s->dims[0] == values->dims[0] && values->dims[1] % BLOCK == 0 &&
                  s->dims[1] == values->dims[1] / BLOCK;
    return per_row || blocks ? s : NULL;
}

static float scale_at(const weight_entry *s, uint64_t i)
{
    const uint8_t *p = s->data + s->begin;
    if (!strcmp(s->dtype, "F32")) {
        uint32_t bits = (uint32_t)p[4 * i] | ((uint32_t)p[4 * i + 1] << 8) |
                        ((uint32_t)p[4 * i + 2] << 16) | ((uint32_t)p[4 * i + 3] << 24);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
    return !strcmp(s->dtype, "F16") ? porta_f16_to_f32(h) : porta_bf16_to_f32(h);
}

/* Values per scale along a row. */
static uint64_t block_of(const weight_entry *values, const weight_entry *s)
{
    return s->rank == 1 ? (uint64_t)values->dims[1] : BLOCK;
}

void weights_int8_dequantize(const weight_entry *values, const weight_entry *s, float *out)
{
    uint64_t count = (uint64_t)values->dims[0] * (uint64_t)values->dims[1];
    uint64_t block = block_of(values, s);
    const uint8_t *q = values->data + values->begin;
    for (uint64_t i = 0; i < count; i++) out[i] = (float)(int8_t)q[i] * scale_at(s, i / block);
}

bool porta_weights_read_int8(porta_weights *weights, const char *key, uint32_t rows,
                             uint32_t cols, uint32_t block, void *held)
{
    const weight_entry *values = weights_find_entry(weights, key);
    const weight_entry *s = weights_int8_scale(weights, values);
    if (!s || values->dims[0] != rows || values->dims[1] != cols ||
        block_of(values, s) != block)
        return false;
    uint64_t count = (uint64_t)rows * cols;
    memcpy(held, values->data + values->begin, count);
    memset((uint8_t *)held + count, 0, (4 - count % 4) % 4);
    float *scales = (float *)held + (count + 3) / 4;
    for (uint64_t i = 0; i < count / block; i++) scales[i] = scale_at(s, i);
    return true;
}
