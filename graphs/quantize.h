/* 8-bit weights (docs/weights.md, "8-bit weights"): which weights a graph may hold quantized,
 * and the one layout the device holds them in, shared by lowering (sizes, the gemm's reads) and
 * the runtime (quantizing when set, dequantizing when read back).
 *
 * A quantized weight, seen as the gemm's B [K, N] (element (k, n) at k * k_stride + n * n_stride
 * of the tensor), is held as N * K int8 values, channel n's K values one after another (value
 * (k, n) is byte n * K + k), four to a 32-bit word, the lowest byte first, padded to a whole
 * word; then N * (K / block) f32 scales, the scale of (k, n) at n * (K / block) + k / block.
 * block is K for i8c (one scale per output channel) and 32 for q8_0. A block's scale is
 * max |w| / 127 over its values, computed in double; q = round(w / scale) (halves away from
 * zero) clamped to [-127, 127]; q = 0 where the scale is 0. The device multiplies q by the
 * scale rounded to f32. */
#ifndef PORTA_QUANTIZE_H
#define PORTA_QUANTIZE_H

#include "graphs/graph.h"

#include <stdint.h>

#define PORTA_Q8_0_BLOCK 32u

/* How a quantized weight is read as B [K, N] (the packing of plan.h, with its block). */
typedef struct porta_quant_layout {
    uint32_t block;                     /* K (i8c) or 32 (q8_0); 0: not quantized */
    uint32_t k_rows, n_cols, k_stride, n_stride;
} porta_quant_layout;

/* Checks every quantized weight of a validated graph (rank 2, f32, read only as linear's
 * weight or matmul's b, along one dim by every reader, K a multiple of 32 for q8_0); the
 * message names the weight and the use that fails. */
porta_status porta_quant_check(porta_graph *graph);
/* The layout of weight t (block 0 when it is not quantized). */
porta_quant_layout porta_quant_layout_of(const porta_graph *graph, porta_tensor_id t);
/* The 32-bit words of int8 values before the scales, and the bytes of the whole layout. */
uint64_t porta_quant_value_words(const porta_quant_layout *layout);
uint64_t porta_quant_bytes(const porta_quant_layout *layout);
/* The tensor's floats (row-major, its own shape) into the layout, and back (each value
 * q * scale: what the device multiplies by). */
void porta_quantize(const porta_quant_layout *layout, const float *tensor, void *held);
void porta_dequantize(const porta_quant_layout *layout, const void *held, float *tensor);

/* The same values and scales in panels of 16 columns, for gemm_panel.k: row k of panel p is
 * the 16 columns' int8 values, byte (p * K + k) * 16 + j holding column 16p + j (0 past N),
 * padded to a whole number of 64 bytes; then per panel and block the 16 columns' scales (0 past
 * N), float (p * (K / block) + b) * 16 + j of the scales. */
uint64_t porta_quant_panel_value_bytes(const porta_quant_layout *layout);
uint64_t porta_quant_panel_bytes(const porta_quant_layout *layout);
/* Values and scales laid out flat (held) into the panels. */
void porta_quant_to_panels(const porta_quant_layout *layout, const void *held, void *panels);
/* porta_quantize and porta_dequantize through the panels when `panels`; false when out of
 * memory. */
bool porta_quantize_as(const porta_quant_layout *layout, bool panels, const float *tensor,
                       void *out);
bool porta_dequantize_as(const porta_quant_layout *layout, bool panels, const void *in,
                         float *tensor);

/* Whether a weight format holds int8 values (i8c, q8_0), not bf16 or plain floats. */
static inline bool porta_weight_is_8bit(porta_weight_format format)
{
    return format == PORTA_WEIGHT_I8C || format == PORTA_WEIGHT_Q8_0;
}

#endif
