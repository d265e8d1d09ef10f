/* State that stays on the device: porta_program_copy (inputs or outputs of one program into
 * inputs of another, once) and porta_program_carry (an output into an input after every run,
 * recorded with the run). Both move 32-bit words with the copy kernel (its data buffers as
 * words), so any dtype moves unchanged: own buffers are whole words (plan.h). */
#include "graphs/graph.h"
#include "runtime/program_internal.h"

#include <stdlib.h>

/* Checks one (destination, source) pair: an input of `dst` and an input or output of `src`
 * (own buffers; weights may be packed, so they are neither) of one dtype and shape. */
static porta_status copy_pair(porta_program *dst, const char *dst_name, porta_program *src,
                              const char *src_name, const char *api, porta_tensor_id *out_dst,
                              porta_tensor_id *out_src)
{
    porta_context *context = porta_program_context(dst);
    if (!dst_name || !src_name)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "%s: a name is NULL", api);
    porta_tensor_id d = porta_graph_find_tensor(dst->graph, dst_name);
    porta_tensor_id s = porta_graph_find_tensor(src->graph, src_name);
    if (d < 0 || s < 0)
        return porta_error(context, PORTA_ERROR_NOT_FOUND, "%s: graph '%s' has no tensor '%s'",
                           api, (d < 0 ? dst : src)->graph->name, d < 0 ? dst_name : src_name);
    const porta_tensor *to = &dst->graph->tensors[d], *from = &src->graph->tensors[s];
    if (to->kind != PORTA_TENSOR_INPUT)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: '%s' of graph '%s' is not an input; only inputs are copied into",
                           api, dst_name, dst->graph->name);
    if (from->kind == PORTA_TENSOR_WEIGHT || src->plan->tensor_buffer_of[s] < 0)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: '%s' of graph '%s' is not an input or output", api, src_name,
                           src->graph->name);
    if (to->dtype != from->dtype || !porta_shape_equal(&to->shape, &from->shape)) {
        char a[96], b[96];
        porta_shape_format(&to->shape, a, sizeof a);
        porta_shape_format(&from->shape, b, sizeof b);
        return porta_error(context, PORTA_ERROR_SHAPE, "%s: '%s' is %s%s but '%s' is %s%s", api,
                           dst_name, porta_dtype_name(to->dtype), a, src_name,
                           porta_dtype_name(from->dtype), b);
    }
    *out_dst = d;
    *out_src = s;
    return PORTA_OK;
}

porta_status porta_program_copy_ranges(porta_program *program, const porta_binding *dst,
                                       const porta_binding *src, int count)
{
    porta_context *context = porta_program_context(program);
    uint64_t total = 0;
    for (int i = 0; i < count; i++) total += porta_program_copy_dispatch_count(dst[i].size / 4);
    if (!total) return PORTA_OK;
    porta_dispatch *dispatches = calloc((size_t)total, sizeof *dispatches);
    if (!dispatches) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    porta_backend_kernel *kernel = NULL;
    porta_status status = porta_program_copy_kernel(program, &kernel);
    int n = 0;
    for (int i = 0; i < count && status == PORTA_OK; i++)
        n += porta_program_copy_dispatches(kernel, dst[i], src[i], dst[i].size / 4,
                                           &dispatches[n]);
    /* one recording per call: such copies are rare (a prefill's cache handed to the decode
     * step once per prompt); copies on every run are carries */
    porta_backend_sequence *sequence = NULL;
    if (status == PORTA_OK)
        status = program->backend->sequence_create(program->device->device, dispatches, n,
                                                   false, &sequence);
    if (status == PORTA_OK) status = program->backend->sequence_submit(sequence);
    if (status == PORTA_OK) status = program->backend->sequence_wait(sequence);
    if (sequence) program->backend->sequence_destroy(sequence);
    free(dispatches);
    return status;
}

porta_status porta_program_copy(porta_program *dst, const char *const *dst_names,
                                porta_program *src, const char *const *src_names, int count)
{
    static const char api[] = "porta_program_copy";
    if (!dst || !src) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = porta_program_context(dst);
    if (count < 0 || (count && (!dst_names || !src_names)))
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "%s: no names for %d copies",
                           api, count);
    if (dst->device != src->device)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: the programs are on different devices (%s, %s)", api,
                           dst->device->desc.id, src->device->desc.id);
    porta_status status = porta_program_wait(dst);
    if (status == PORTA_OK) status = porta_program_wait(src);
    if (status != PORTA_OK || !count) return status;
    porta_binding *ranges = calloc(2 * (size_t)count, sizeof *ranges);
    if (!ranges) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < count && status == PORTA_OK; i++) {
        porta_tensor_id d, s;
        status = copy_pair(dst, dst_names[i], src, src_names[i], api, &d, &s);
        if (status != PORTA_OK) break;
        ranges[i] = porta_program_tensor_range(dst, d);
        ranges[count + i] = porta_program_tensor_range(src, s);
    }
    if (status == PORTA_OK) status = porta_program_copy_ranges(dst, ranges, ranges + count, count);
    free(ranges);
    return status;
}

porta_status porta_program_carry(porta_program *program, const char *dst_name,
                                 const char *src_name)
{
    static const char api[] = "porta_program_carry";
    if (!program) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = porta_program_context(program);
    porta_status status = porta_program_wait(program);
    if (status != PORTA_OK) return status;
    porta_tensor_id d, s;
    status = copy_pair(program, dst_name, program, src_name, api, &d, &s);
    if (status != PORTA_OK) return status;
    if (program->graph->tensors[s].kind != PORTA_TENSOR_NODE)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: '%s' is not an output of graph '%s'", api, src_name,
                           program->graph->name);
    for (int c = 0; c < program->n_carries; c++)
        if (program->carries[c].dst == d)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "%s: '%s' already receives '%s'", api, dst_name,
                               program->graph->tensors[program->carries[c].src].name);
    porta_carry *grown = realloc(program->carries,
                                 ((size_t)program->n_carries + 1) * sizeof *grown);
    if (!grown) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    program->carries = grown;
    program->carries[program->n_carries++] = (porta_carry){d, s};
    status = porta_program_record(program);
    if (status != PORTA_OK) program->n_carries--;
    return status;
}
