/* Setting a program's weights from a weights file, once per device: a weight buffer another
 * program of the device already filled from the same weights handle, laid out the same way, is
 * shared rather than uploaded again (runtime/shared_weights.c), so a prefill and a decode-step
 * program, or programs of several sequence lengths, hold one copy of the model. */
#include "graphs/graph.h"
#include "graphs/quantize.h"
#include "graphs/weights.h"
#include "runtime/program_internal.h"

#include <stdlib.h>

/* What a weight buffer holds and how: every tensor's key, dtype, shape, offset and packing (an
 * 8-bit weight's block included, so an i8c buffer never serves a q8_0 or f32 one). Two
 * buffers with one signature filled from one weights handle hold the same bytes. */
char *porta_plan_weight_signature(const porta_graph *graph, const porta_plan *plan, int buffer)
{
    porta_strbuf text = {0};
    porta_strbuf_append(&text, "%llu", (unsigned long long)plan->buffers[buffer].bytes);
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++) {
        const porta_tensor *tensor = &graph->tensors[t];
        if (tensor->kind != PORTA_TENSOR_WEIGHT || plan->tensor_buffer_of[t] != buffer) continue;
        char shape[96];
        porta_shape_format(&tensor->shape, shape, sizeof shape);
        const porta_plan_packing *p = &plan->tensor_packing[t];
        porta_strbuf_append(&text, ";%s|%s:%s%s|%llu|%u,%u,%u,%u,%u,%u",
                            tensor->key ? tensor->key : tensor->name,
                            porta_weight_format_name(tensor->format),
                            porta_dtype_name(tensor->dtype), shape,
                            (unsigned long long)plan->tensor_at[t].offset, p->panel_cols,
                            p->k_rows, p->n_cols, p->k_stride, p->n_stride, p->quant_block);
    }
    if (text.failed) {
        porta_strbuf_free(&text);
        return NULL;
    }
    return text.data;
}

porta_status porta_program_own_buffer(porta_program *program, int buffer)
{
    porta_shared_buffer *entry = program->shared[buffer];
    if (!entry) return PORTA_OK;
    if (entry->users == 1) {
        program->buffers[buffer] = porta_shared_take(program->device, entry);
        program->shared[buffer] = NULL;
        return PORTA_OK;
    }
    porta_backend_buffer *own = NULL;
    porta_status status = program->backend->buffer_create(program->device->device, entry->bytes,
                                                          &own);
    if (status != PORTA_OK) return status;
    porta_binding to = {own, 0, entry->bytes}, from = {entry->buffer, 0, entry->bytes};
    status = porta_program_copy_ranges(program, &to, &from, 1);
    if (status != PORTA_OK) {
        program->backend->buffer_destroy(own);
        return status;
    }
    program->buffers[buffer] = own;
    program->capacity[buffer] = entry->bytes;
    program->shared[buffer] = NULL;
    porta_shared_release(program->device, entry);
    return porta_program_record(program);
}

/* An 8-bit weight that the file stores as int8 values and scales in the layout the device holds
 * (docs/weights.md, "8-bit weights in a file"), uploaded as it is stored; *taken false when the
 * file holds it otherwise (it is then read as floats and quantized when set). */
static porta_status upload_stored_int8(porta_program *program, porta_weights *weights,
                                       porta_tensor_id t, int buffer, bool *taken)
{
    const porta_plan_packing *p = &program->plan->tensor_packing[t];
    const porta_plan_ref *at = &program->plan->tensor_at[t];
    const porta_tensor *tensor = &program->graph->tensors[t];
    porta_quant_layout layout = {p->quant_block, p->k_rows, p->n_cols, p->k_stride, p->n_stride};
    *taken = false;
    if (!p->quant_block || p->k_stride != 1) return PORTA_OK;      /* rows are not channels */
    uint8_t *held = malloc(porta_quant_bytes(&layout));
    uint8_t *placed = p->panel_cols ? malloc(at->bytes) : held;
    porta_status status = PORTA_OK;
    if (!held || !placed) {
        status = porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY,
                             "out of memory");
    } else if (porta_weights_read_int8(weights, tensor->key ? tensor->key : tensor->name,
                                       p->n_cols, p->k_rows, p->quant_block, held)) {
        if (p->panel_cols) porta_quant_to_panels(&layout, held, placed);
        status = program->backend->buffer_upload(program->buffers[buffer], at->offset, placed,
                                                 at->bytes);
        *taken = status == PORTA_OK;
    }
    if (placed != held) free(placed);
    free(held);
    return status;
}

/* Reads and uploads every weight that lies in plan buffer `buffer`. */
static porta_status upload_buffer(porta_program *program, porta_weights *weights, int buffer)
{
    const porta_graph *graph = program->graph;
    porta_status status = PORTA_OK;
    void *host = NULL;
    for (porta_tensor_id t = 0; t < graph->n_tensors && status == PORTA_OK; t++) {
        const porta_tensor *tensor = &graph->tensors[t];
        if (tensor->kind != PORTA_TENSOR_WEIGHT || program->plan->tensor_buffer_of[t] != buffer)
            continue;
        bool taken = false;
        status = upload_stored_int8(program, weights, t, buffer, &taken);
        if (status != PORTA_OK || taken) continue;
        int64_t count = 0;
        porta_shape_elements(&tensor->shape, &count);
        size_t bytes = (size_t)count * porta_dtype_size(tensor->dtype);
        void *grown = realloc(host, bytes ? bytes : 1);
        if (!grown) {
            status = porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY,
                                 "out of memory");
            break;
        }
        host = grown;
        status = porta_weights_read(weights, tensor->key ? tensor->key : tensor->name,
                                    tensor->dtype, &tensor->shape, host, bytes);
        if (status == PORTA_OK) status = porta_program_set(program, tensor->name, host, bytes);
    }
    free(host);
    return status;
}

porta_status porta_program_load_weights(porta_program *program, porta_weights *weights, int b,
                                        bool *out_swapped)
{
    porta_context *context = porta_program_context(program);
    char *signature = porta_plan_weight_signature(program->graph, program->plan, b);
    if (!signature) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    uint64_t serial = porta_weights_serial(weights);
    porta_shared_buffer *entry = porta_shared_find(program->device, serial, signature);
    porta_status status = PORTA_OK;
    if (entry && entry == program->shared[b]) {
        free(signature);            /* these very weights, set before */
        return PORTA_OK;
    }
    /* a buffer shared from other weights is let go of; an own one is filled below */
    if (program->shared[b]) status = porta_program_own_buffer(program, b);
    if (status == PORTA_OK && entry) {
        program->backend->buffer_destroy(program->buffers[b]);
        program->buffers[b] = entry->buffer;
        program->capacity[b] = entry->bytes;
        program->shared[b] = entry;
        entry->users++;
        *out_swapped = true;
    } else if (status == PORTA_OK) {
        status = upload_buffer(program, weights, b);
        if (status == PORTA_OK) {
            program->shared[b] = porta_shared_add(program->device, serial, signature,
                                                  program->buffers[b], program->capacity[b]);
            if (!program->shared[b])
                status = porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        }
    }
    free(signature);
    return status;
}

porta_status porta_program_set_weights(porta_program *program, porta_weights *weights)
{
    if (!program || !weights) return PORTA_ERROR_INVALID_ARGUMENT;
    /* checks every weight first, so the message names the first bad one and counts the rest */
    porta_status status = porta_graph_check_weights((porta_graph *)program->graph, weights);
    if (status == PORTA_OK) status = porta_program_wait(program);
    if (status != PORTA_OK) return status;
    const porta_plan *plan = program->plan;
    bool swapped = false;
    for (int b = 0; b < plan->n_buffers && status == PORTA_OK; b++)
        if (plan->buffers[b].kind == PORTA_PLAN_WEIGHT)
            status = porta_program_load_weights(program, weights, b, &swapped);
    /* the recording binds the buffers it was made with */
    if (swapped && status == PORTA_OK) status = porta_program_record(program);
    /* kept for binding new values, which may lay weights out anew (program_bind.c) */
    if (status == PORTA_OK) program->weights = weights;
    return status;
}
