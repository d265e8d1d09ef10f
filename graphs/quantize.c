/* 8-bit weights: the checks, the layout and the quantization rule (graphs/quantize.h). */
#include "graphs/quantize.h"
#include "graphs/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Whether weight t's use as operand `slot` of `node` reads it as [N, K] (linear's weight,
 * matmul's b with transpose_b); *ok false when the use may not read a quantized weight. */
static bool reads_transposed(const porta_graph *graph, const porta_node *node, int slot, bool *ok)
{
    *ok = slot == 1 && (node->op == PORTA_OP_LINEAR || node->op == PORTA_OP_MATMUL);
    return node->op == PORTA_OP_LINEAR || porta_node_bool(graph, node, "transpose_b");
}

/* The first reader of t, or NULL; *slot gets its operand slot. */
static const porta_node *first_reader(const porta_graph *graph, porta_tensor_id t, int *slot)
{
    for (int i = 0; i < graph->n_nodes; i++)
        for (int o = 0; o < graph->nodes[i].n_operands; o++)
            if (graph->nodes[i].operands[o] == t) {
                *slot = o;
                return &graph->nodes[i];
            }
    return NULL;
}

static porta_status check_weight(porta_graph *graph, porta_tensor_id t)
{
    const porta_tensor *w = &graph->tensors[t];
    const char *format = porta_weight_format_name(w->format);
    if (w->format == PORTA_WEIGHT_BF16) {
        /* every kernel reads it through its data buffers, as the f32 it widens to */
        if (w->dtype != PORTA_F32 || w->is_output)
            return porta_graph_error_at(graph, w->pos, PORTA_ERROR_INVALID_GRAPH,
                                        "weight '%s' is bf16: only an f32 weight that is no "
                                        "output may be held as bf16", w->name);
        return PORTA_OK;
    }
    if (w->dtype != PORTA_F32 || w->shape.rank != 2 || w->is_output)
        return porta_graph_error_at(graph, w->pos, PORTA_ERROR_INVALID_GRAPH,
                                    "weight '%s' is %s: only an f32 weight of rank 2 that is no "
                                    "output may be held as %s", w->name, format, format);
    bool first = true, transposed = true;
    for (int i = 0; i < graph->n_nodes; i++) {
        const porta_node *node = &graph->nodes[i];
        for (int o = 0; o < node->n_operands; o++) {
            if (node->operands[o] != t) continue;
            bool ok, here = reads_transposed(graph, node, o, &ok);
            const char *op = porta_op_get(node->op)->name;
            if (!ok)
                return porta_graph_error_at(graph, node->operand_pos[o], PORTA_ERROR_INVALID_GRAPH,
                                            "weight '%s' is %s, which only linear's weight or "
                                            "matmul's b may read; node '%s' (%s) reads it as "
                                            "operand %d", w->name, format,
                                            graph->tensors[node->output].name, op, o);
            if (!first && here != transposed)
                return porta_graph_error_at(graph, node->operand_pos[o], PORTA_ERROR_INVALID_GRAPH,
                                            "weight '%s' is %s and node '%s' (%s) reduces it "
                                            "along another dim than its other readers", w->name,
                                            format, graph->tensors[node->output].name, op);
            first = false;
            transposed = here;
        }
    }
    porta_quant_layout layout = porta_quant_layout_of(graph, t);
    if (w->format == PORTA_WEIGHT_Q8_0 && layout.k_rows % PORTA_Q8_0_BLOCK)
        return porta_graph_error_at(graph, w->pos, PORTA_ERROR_SHAPE,
                                    "weight '%s' is q8_0, whose blocks of %u need a reduced dim "
                                    "that is a multiple of %u; it is %u", w->name,
                                    PORTA_Q8_0_BLOCK, PORTA_Q8_0_BLOCK, layout.k_rows);
    return PORTA_OK;
}

porta_status porta_quant_check(porta_graph *graph)
{
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++) {
        if (graph->tensors[t].kind != PORTA_TENSOR_WEIGHT || !graph->tensors[t].format) continue;
        porta_status status = check_weight(graph, t);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

porta_quant_layout porta_quant_layout_of(const porta_graph *graph, porta_tensor_id t)
{
    const porta_tensor *w = &graph->tensors[t];
    porta_quant_layout layout = {0};
    if (w->kind != PORTA_TENSOR_WEIGHT || !porta_weight_is_8bit(w->format) || w->shape.rank != 2)
        return layout;
    int slot = 0;
    const porta_node *reader = first_reader(graph, t, &slot);
    bool ok, transposed = reader ? reads_transposed(graph, reader, slot, &ok) : true;
    uint32_t rows = (uint32_t)w->shape.dims[0], cols = (uint32_t)w->shape.dims[1];
    /* [N, K] (k contiguous) or [K, N] */
    layout.k_rows = transposed ? cols : rows;
    layout.n_cols = transposed ? rows : cols;
    layout.k_stride = transposed ? 1 : cols;
    layout.n_stride = transposed ? cols : 1;
    layout.block = w->format == PORTA_WEIGHT_Q8_0 ? PORTA_Q8_0_BLOCK : layout.k_rows;
    return layout;
}

uint64_t porta_quant_value_words(const porta_quant_layout *layout)
{
    return ((uint64_t)layout->k_rows * layout->n_cols + 3) / 4;
}

uint64_t porta_quant_bytes(const porta_quant_layout *layout)
{
    uint64_t scales = (uint64_t)layout->n_cols * (layout->k_rows / layout->block);
    return (porta_quant_value_words(layout) + scales) * 4;
}

void porta_quantize(const porta_quant_layout *layout, const float *tensor, void *held)
{
    uint8_t *bytes = held;
    uint32_t blocks = layout->k_rows / layout->block;
    float *scales = (float *)held + porta_quant_value_words(layout);
    memset(bytes, 0, porta_quant_value_words(layout) * 4);
    for (uint32_t n = 0; n < layout->n_cols; n++)
        for (uint32_t b = 0; b < blocks; b++) {
            const float *at = tensor + (uint64_t)n * layout->n_stride;
            uint32_t k0 = b * layout->block;
            double most = 0.0;
            for (uint32_t k = k0; k < k0 + layout->block; k++) {
                double v = fabs((double)at[(uint64_t)k * layout->k_stride]);
                if (v > most) most = v;
            }
            double scale = most / 127.0;
            scales[(uint64_t)n * blocks + b] = (float)scale;
            for (uint32_t k = k0; k < k0 + layout->block; k++) {
                double q = scale > 0.0 ? round((double)at[(uint64_t)k * layout->k_stride] / scale)
                                       : 0.0;
                q = q > 127.0 ? 127.0 : q < -127.0 ? -127.0 : q;
                /* two's complement: the device reads the byte back as int8 */
                bytes[(uint64_t)n * layout->k_rows + k] = (uint8_t)(int8_t)q;
            }
        }
}

void porta_dequantize(const porta_quant_layout *layout, const void *held, float *tensor)
{
    const uint8_t *bytes = held;
    uint32_t blocks = layout->k_rows / layout->block;
    const float *scales = (const float *)held + porta_quant_value_words(layout);
    for (uint32_t n = 0; n < layout->n_cols; n++)
        for (uint32_t k = 0; k < layout->k_rows; k++) {
            int8_t q = (int8_t)bytes[(uint64_t)n * layout->k_rows + k];
            tensor[(uint64_t)k * layout->k_stride + (uint64_t)n * layout->n_stride] =
                (float)q * scales[(uint64_t)n * blocks + k / layout->block];
        }
}

#define PANEL 16u

static uint64_t panels_of(const porta_quant_layout *layout)
{
    return (layout->n_cols + PANEL - 1) / PANEL;
}

uint64_t porta_quant_panel_value_bytes(const porta_quant_layout *layout)
{
    uint64_t bytes = panels_of(layout) * layout->k_rows * PANEL;
    return (bytes + 63) / 64 * 64;
}

uint64_t porta_quant_panel_bytes(const porta_quant_layout *layout)
{
    uint64_t scales = panels_of(layout) * (layout->k_rows / layout->block) * PANEL;
    return porta_quant_panel_value_bytes(layout) + scales * 4;
}

/* Moves values and scales between the two layouts; columns past N are zeros in the panels. */
static void move_panels(const porta_quant_layout *layout, uint8_t *held, uint8_t *panels,
                        bool to_panels)
{
    uint32_t blocks = layout->k_rows / layout->block;
    float *flat_scales = (float *)held + porta_quant_value_words(layout);
    float *panel_scales = (float *)(panels + porta_quant_panel_value_bytes(layout));
    if (to_panels) memset(panels, 0, porta_quant_panel_bytes(layout));
    for (uint32_t n = 0; n < layout->n_cols; n++) {
        uint64_t p = n / PANEL, j = n % PANEL;
        for (uint32_t k = 0; k < layout->k_rows; k++) {
            uint8_t *flat = &held[(uint64_t)n * layout->k_rows + k];
            uint8_t *packed = &panels[(p * layout->k_rows + k) * PANEL + j];
            if (to_panels) *packed = *flat;
            else *flat = *packed;
        }
        for (uint32_t b = 0; b < blocks; b++) {
            float *flat = &flat_scales[(uint64_t)n * blocks + b];
            float *packed = &panel_scales[(p * blocks + b) * PANEL + j];
            if (to_panels) *packed = *flat;
            else *flat = *packed;
        }
    }
}

void porta_quant_to_panels(const porta_quant_layout *layout, const void *held, void *panels)
{
    move_panels(layout, (uint8_t *)held, panels, true);
}

bool porta_quantize_as(const porta_quant_layout *layout, bool panels, const float *tensor,
                       void *out)
{
    if (!panels) {
        porta_quantize(layout, tensor, out);
        return true;
    }
    uint8_t *held = malloc(porta_quant_bytes(layout));
    if (!held) return false;
    porta_quantize(layout, tensor, held);
    move_panels(layout, held, out, true);
    free(held);
    return true;
}

bool porta_dequantize_as(const porta_quant_layout *layout, bool panels, const void *in,
                         float *tensor)
{
    if (!panels) {
        porta_dequantize(layout, in, tensor);
        return true;
    }
    uint8_t *held = malloc(porta_quant_bytes(layout));
    if (!held) return false;
    move_panels(layout, held, (uint8_t *)in, false);
    porta_dequantize(layout, held, tensor);
    free(held);
    return true;
}

porta_status porta_graph_quantize_weights(porta_graph *graph, porta_weight_format format,
                                          int *out_count)
{
    if (out_count) *out_count = 0;
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    if (format == PORTA_WEIGHT_PLAIN || !porta_weight_format_name(format))
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_quantize_weights: format %d is not i8c, q8_0 or bf16",
                           (int)format);
    porta_status status = porta_graph_validate(graph);
    if (status != PORTA_OK) return status;
    int count = 0;
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++) {
        porta_tensor *w = &graph->tensors[t];
        if (w->kind != PORTA_TENSOR_WEIGHT || w->format) continue;
        if (format == PORTA_WEIGHT_BF16) {
            if (w->dtype == PORTA_F32 && !w->is_output) {
                w->format = format;
                count++;
            }
            continue;
        }
        int slot;
        const porta_node *reader = first_reader(graph, t, &slot);
        if (!reader || slot != 1 ||
            (reader->op != PORTA_OP_LINEAR && reader->op != PORTA_OP_MATMUL))
            continue;
        w->format = format;
        if (check_weight(graph, t) == PORTA_OK) count++;
        else w->format = PORTA_WEIGHT_PLAIN;
    }
    porta_error_clear(graph->context);
    status = porta_graph_validate(graph);
    if (status == PORTA_OK && out_count) *out_count = count;
    return status;
}
