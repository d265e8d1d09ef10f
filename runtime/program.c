/* A program: a graph's plan made real on one device. The arena and one buffer per input, weight
 * and output are created once, each distinct (kernel, configuration) is compiled once, and the
 * plan's steps are recorded once as a sequence that every run submits again. */
#include "porta.h"
#include "graphs/half.h"
#include "graphs/ops.h"
#include "graphs/quantize.h"
#include "graphs/lower/plan.h"
#include "runtime/program_internal.h"
#include "runtime/tune.h"

#include <stdlib.h>
#include <string.h>


/* The CPU drivers announce themselves in their names: Mesa's llvmpipe (lavapipe for Vulkan,
 * rusticl for OpenCL) as "llvmpipe (LLVM 15.0.6, 256 bits)", PoCL in its API version. */
static void cpu_kind_of(const porta_device_caps *caps, porta_plan_limits *limits)
{
    const char *bits = strstr(caps->name, " bits)");
    if (strstr(caps->name, "llvmpipe")) {
        limits->kind = PORTA_PLAN_CPU_LANES;
        limits->vector_width = 8;
        if (bits) {
            const char *digits = bits;
            while (digits > caps->name && digits[-1] >= '0' && digits[-1] <= '9') digits--;
            int width = atoi(digits);
            if (width >= 128 && width <= 1024) limits->vector_width = (uint32_t)width / 32;
        }
    } else if (caps->type == PORTA_DEVICE_CPU) {
        limits->kind = PORTA_PLAN_CPU_VECTORS;
        limits->vector_width = 8;
    }
}

/* Fusion is on unless PORTA_FUSION=0, so a fused plan can be measured against the unfused one. */
static bool fusion_from_env(void)
{
    const char *value = getenv("PORTA_FUSION");
    return !value || strcmp(value, "0") != 0;
}

static porta_plan_limits limits_of(const porta_device_caps *caps)
{
    porta_plan_limits limits = {
        .max_workgroup_size = caps->max_workgroup_size,
        .shared_memory_bytes = caps->shared_memory_bytes,
        .buffer_alignment = caps->buffer_alignment,
        .max_buffer_bytes = caps->max_buffer_bytes,
        .subgroup_size = caps->subgroup_size,
        .kind = PORTA_PLAN_GPU,
        .variants = getenv("PORTA_VARIANTS"),
        .fusion = fusion_from_env(),
    };
    cpu_kind_of(caps, &limits);
    /* steps use the x dimension for 1-D groups, so its own limit bounds the total too */
    if (caps->max_workgroup_dims[0] && caps->max_workgroup_dims[0] < limits.max_workgroup_size)
        limits.max_workgroup_size = caps->max_workgroup_dims[0];
    if (!limits.max_workgroup_size) limits.max_workgroup_size = 64;
    if (!limits.max_buffer_bytes) limits.max_buffer_bytes = (uint64_t)1 << 27;
    /* a smaller binding range, so a small graph exercises the split arena on any device */
    const char *cap = getenv("PORTA_MAX_BINDING_BYTES");
    if (cap && *cap) {
        char *end;
        unsigned long long bytes = strtoull(cap, &end, 10);
        if (!*end && bytes >= limits.buffer_alignment && bytes < limits.max_buffer_bytes)
            limits.max_buffer_bytes = bytes;
    }
    return limits;
}

static bool same_config(const porta_kernel_config *a, const porta_kernel_config *b)
{
    if (memcmp(a->local_size, b->local_size, sizeof a->local_size) ||
        a->n_constants != b->n_constants || a->kinds != b->kinds)
        return false;
    return !memcmp(a->constants, b->constants, (size_t)a->n_constants * sizeof a->constants[0]);
}

static porta_status kernel_for(porta_program *program, const porta_plan_step *step,
                               porta_backend_kernel **out_kernel)
{
    for (int k = 0; k < program->n_kernels; k++)
        if (program->kernels[k].source == step->kernel &&
            same_config(&program->kernels[k].config, &step->config)) {
            *out_kernel = program->kernels[k].kernel;
            return PORTA_OK;
        }
    if (program->n_kernels == program->cap_kernels) {
        int capacity = program->cap_kernels ? 2 * program->cap_kernels : 16;
        compiled_kernel *grown = realloc(program->kernels, (size_t)capacity * sizeof *grown);
        if (!grown)
            return porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY,
                               "out of memory");
        program->kernels = grown;
        program->cap_kernels = capacity;
    }
    compiled_kernel *entry = &program->kernels[program->n_kernels];
    porta_status status = program->backend->kernel_create(program->device->device, step->kernel,
                                                          &step->config, &entry->kernel);
    if (status != PORTA_OK) return status;
    entry->source = step->kernel;
    entry->config = step->config;
    program->n_kernels++;
    *out_kernel = entry->kernel;
    return PORTA_OK;
}

/* The copy kernel's work-group and the most elements one dispatch of it covers (the portable
 * 65,535 groups). */
enum { COPY_LOCAL = 64, COPY_CHUNK = 65535 * COPY_LOCAL };

porta_status porta_program_copy_kernel(porta_program *program, porta_backend_kernel **out_kernel)
{
    if (!program->copy_kernel) {
        porta_kernel_config config = {.local_size = {COPY_LOCAL, 1, 1}};
        porta_status status = program->backend->kernel_create(
            program->device->device, &porta_kernel_copy, &config, &program->copy_kernel);
        if (status != PORTA_OK) return status;
    }
    *out_kernel = program->copy_kernel;
    return PORTA_OK;
}

/* The dispatches that copy `elements` 4-byte words from `src` to `dst`, at most COPY_CHUNK
 * each; returns how many were written to `out`. No dependencies are listed: Vulkan's barriers
 * come from the bindings' ranges and OpenCL's queue is in order, so the copies follow the steps
 * that write the source and read the destination. */
int porta_program_copy_dispatches(porta_backend_kernel *kernel, porta_binding dst, porta_binding src,
                           uint64_t elements, porta_dispatch *out)
{
    int n = 0;
    for (uint64_t done = 0; done < elements; done += COPY_CHUNK, n++) {
        uint64_t count = elements - done < COPY_CHUNK ? elements - done : COPY_CHUNK;
        uint32_t params[3] = {(uint32_t)count, (uint32_t)done, (uint32_t)done};
        porta_dispatch *d = &out[n];
        memset(d, 0, sizeof *d);
        d->kernel = kernel;
        d->n_bindings = 2;
        d->bindings[0] = src;
        d->bindings[1] = dst;
        d->param_bytes = sizeof params;
        memcpy(d->params, params, sizeof params);
        d->groups[0] = (uint32_t)((count + COPY_LOCAL - 1) / COPY_LOCAL);
        d->groups[1] = d->groups[2] = 1;
    }
    return n;
}

uint64_t porta_program_copy_dispatch_count(uint64_t elements)
{
    return (elements + COPY_CHUNK - 1) / COPY_CHUNK;
}

/* A tensor's own range of its own buffer. */
porta_binding porta_program_tensor_range(const porta_program *program, porta_tensor_id tensor)
{
    const porta_plan_ref *at = &program->plan->tensor_at[tensor];
    return (porta_binding){program->buffers[program->plan->tensor_buffer_of[tensor]], at->offset,
                           at->bytes};
}

/* Records the plan's steps, then the carries, as the sequence every run submits (again when a
 * carry is added; nothing is compiled twice). */
porta_status porta_program_record(porta_program *program)
{
    const porta_plan *plan = program->plan;
    porta_context *context = porta_program_context(program);
    uint64_t total = (uint64_t)plan->n_steps;
    for (int c = 0; c < program->n_carries; c++)
        total += porta_program_copy_dispatch_count(plan->tensor_at[program->carries[c].dst].bytes / 4);
    if (!total) return PORTA_OK;
    if (total > INT32_MAX)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED, "the program has too many steps");
    porta_dispatch *dispatches = calloc((size_t)total, sizeof *dispatches);
    if (!dispatches) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    porta_status status = PORTA_OK;
    for (int i = 0; i < plan->n_steps && status == PORTA_OK; i++) {
        const porta_plan_step *step = &plan->steps[i];
        porta_dispatch *d = &dispatches[i];
        status = kernel_for(program, step, &d->kernel);
        if (status != PORTA_OK) break;
        d->n_bindings = step->n_bindings;
        for (int b = 0; b < step->n_bindings; b++)
            d->bindings[b] = (porta_binding){program->buffers[step->bindings[b].buffer],
                                             step->bindings[b].offset, step->bindings[b].bytes};
        d->param_bytes = step->param_bytes;
        memcpy(d->params, step->params, step->param_bytes);
        memcpy(d->groups, step->groups, sizeof d->groups);
        d->n_deps = step->n_deps;
        memcpy(d->deps, step->deps, sizeof d->deps);
    }
    int n = plan->n_steps;
    porta_backend_kernel *kernel = NULL;
    if (status == PORTA_OK && program->n_carries) status = porta_program_copy_kernel(program, &kernel);
    for (int c = 0; c < program->n_carries && status == PORTA_OK; c++) {
        const porta_carry *carry = &program->carries[c];
        n += porta_program_copy_dispatches(kernel, porta_program_tensor_range(program, carry->dst),
                                           porta_program_tensor_range(program, carry->src),
                                           plan->tensor_at[carry->dst].bytes / 4,
                                           &dispatches[n]);
    }
    porta_backend_sequence *sequence = NULL;
    if (status == PORTA_OK)
        status = program->backend->sequence_create(program->device->device, dispatches, n,
                                                   program->profile, &sequence);
    free(dispatches);
    if (status != PORTA_OK) return status;
    if (program->sequence) program->backend->sequence_destroy(program->sequence);
    program->sequence = sequence;
    return PORTA_OK;
}

porta_status porta_program_create_buffer(porta_program *program, int b)
{
    const porta_plan_buffer *buffer = &program->plan->buffers[b];
    uint64_t bytes = buffer->bytes ? buffer->bytes : 4;
    porta_status status = program->backend->buffer_create(program->device->device, bytes,
                                                          &program->buffers[b]);
    if (status != PORTA_OK) return status;
    program->capacity[b] = bytes;
    if (buffer->kind != PORTA_PLAN_ARENA && bytes > program->staging_bytes) {
        void *grown = realloc(program->staging, bytes);
        if (!grown)
            return porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY,
                               "out of memory");
        program->staging = grown;
        program->staging_bytes = bytes;
    }
    return PORTA_OK;
}

static porta_status build(porta_program *program)
{
    const porta_plan *plan = program->plan;
    const porta_backend *backend = program->backend;
    porta_context *context = porta_program_context(program);
    program->buffers = calloc((size_t)plan->n_buffers, sizeof *program->buffers);
    program->shared = calloc((size_t)plan->n_buffers, sizeof *program->shared);
    program->capacity = calloc((size_t)plan->n_buffers, sizeof *program->capacity);
    if (!program->buffers || !program->shared || !program->capacity)
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    porta_status status = PORTA_OK;
    for (int b = 0; b < plan->n_buffers && status == PORTA_OK; b++)
        status = porta_program_create_buffer(program, b);
    /* inputs and weights start as zeros, as the API promises */
    if (status == PORTA_OK && program->staging) memset(program->staging, 0, program->staging_bytes);
    for (int b = 0; b < plan->n_buffers && status == PORTA_OK; b++)
        if (plan->buffers[b].kind == PORTA_PLAN_INPUT || plan->buffers[b].kind == PORTA_PLAN_WEIGHT)
            status = backend->buffer_upload(program->buffers[b], 0, program->staging,
                                            plan->buffers[b].bytes);
    return status == PORTA_OK ? porta_program_record(program) : status;
}

porta_status porta_program_create(porta_device *device, const porta_graph *graph, uint32_t flags,
                                  porta_program **out_program)
{
    if (!device) return porta_program_create_tuned(device, graph, flags, NULL, out_program);
    const char *use = getenv("PORTA_TUNE");
    char *tuned = use && !strcmp(use, "off") ? NULL : porta_tune_load(device);
    porta_status status = porta_program_create_tuned(device, graph, flags, tuned, out_program);
    free(tuned);
    return status;
}

const porta_plan_choice *porta_program_choices(const porta_program *program, int *out_count)
{
    *out_count = program->plan->n_choices;
    return program->plan->choices;
}

int porta_program_step_choice(const porta_program *program, int step)
{
    return step >= 0 && step < program->plan->n_steps ? program->plan->steps[step].choice : -1;
}

porta_status porta_program_create_tuned(porta_device *device, const porta_graph *graph,
                                        uint32_t flags, const char *tuned,
                                        porta_program **out_program)
{
    if (!out_program) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_program = NULL;
    if (!device || !graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = device->context;
    if (flags & ~PORTA_PROGRAM_PROFILE)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_program_create: unknown flags 0x%x", flags);
    const porta_device_caps *caps = device->backend->device_caps(device->device);
    if ((flags & PORTA_PROGRAM_PROFILE) && !caps->timestamps)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "porta_program_create: %s has no device timestamps to profile with",
                           device->desc.id);
    porta_program *program = calloc(1, sizeof *program);
    if (!program) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    program->device = device;
    program->backend = device->backend;
    program->graph = graph;
    program->profile = flags & PORTA_PROGRAM_PROFILE;
    porta_plan_limits limits = limits_of(caps);
    porta_status status = PORTA_OK;
    /* a graph with named dims is bound per run: the program plans its own copy again, with the
     * same limits and tuning */
    if (graph->n_symbols) {
        status = porta_graph_clone(graph, &program->own_graph);
        if (status == PORTA_OK && tuned && !(program->tuned = porta_strdup(tuned)))
            status = porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        if (status != PORTA_OK) {
            porta_program_destroy(program);
            return status;
        }
        program->graph = graph = program->own_graph;
        tuned = program->tuned;
    }
    limits.tuned = tuned;
    program->limits = limits;
    status = porta_plan_create(graph, &limits, &program->plan);
    if (status == PORTA_OK) status = build(program);
    if (status != PORTA_OK) {
        porta_program_destroy(program);
        return status;
    }
    *out_program = program;
    return PORTA_OK;
}


void porta_program_destroy(porta_program *program)
{
    if (!program) return;
    porta_program_wait(program);    /* the device may not be using what is freed */
    const porta_backend *backend = program->backend;
    if (program->sequence) backend->sequence_destroy(program->sequence);
    for (int k = 0; k < program->n_kernels; k++) backend->kernel_destroy(program->kernels[k].kernel);
    if (program->copy_kernel) backend->kernel_destroy(program->copy_kernel);
    free(program->carries);
    if (program->buffers)
        for (int b = 0; b < program->plan->n_buffers; b++) {
            if (program->shared && program->shared[b])
                porta_shared_release(program->device, program->shared[b]);
            else if (program->buffers[b])
                backend->buffer_destroy(program->buffers[b]);
        }
    free(program->buffers);
    free(program->shared);
    free(program->capacity);
    free(program->tuned);
    porta_graph_destroy(program->own_graph);
    free(program->kernels);
    free(program->staging);
    porta_plan_destroy(program->plan);
    free(program);
}

/* The tensor called `name` and its own buffer; outputs, inputs and weights have one. */
static porta_status find_io(porta_program *program, const char *api, const char *name,
                            size_t bytes, bool writing, porta_tensor_id *out_tensor,
                            int *out_buffer)
{
    porta_context *context = porta_program_context(program);
    const porta_graph *graph = program->graph;
    if (!name) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "%s: name is NULL", api);
    porta_tensor_id t = porta_graph_find_tensor(graph, name);
    if (t < 0)
        return porta_error(context, PORTA_ERROR_NOT_FOUND, "%s: graph '%s' has no tensor '%s'",
                           api, graph->name, name);
    const porta_tensor *tensor = &graph->tensors[t];
    int buffer = program->plan->tensor_buffer_of[t];
    if (writing && tensor->kind == PORTA_TENSOR_NODE)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: '%s' is computed by the graph, not an input or weight", api, name);
    if (buffer < 0)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: '%s' is an intermediate; only inputs, weights and outputs can be "
                           "read", api, name);
    int64_t count = 0;
    porta_shape_elements(&tensor->shape, &count);
    size_t want = (size_t)count * porta_dtype_size(tensor->dtype);
    if (bytes != want) {
        char shape[96];
        porta_shape_format(&tensor->shape, shape, sizeof shape);
        return porta_error(context, PORTA_ERROR_SHAPE,
                           "%s: '%s' is %s%s, %zu bytes; %zu bytes were given", api, name,
                           porta_dtype_name(tensor->dtype), shape, want, bytes);
    }
    *out_tensor = t;
    *out_buffer = buffer;
    return PORTA_OK;
}

/* Moves elements (element_bytes each: f32 or f16) between a tensor's own layout and its
 * buffer's panels (plan.h); padding columns are zeros. */
static void pack_panels(const porta_plan_packing *p, const void *tensor, void *packed,
                        bool unpack)
{
    size_t size = p->element_bytes ? p->element_bytes : PORTA_PLAN_ELEMENT_BYTES;
    uint32_t panels = (p->n_cols + p->panel_cols - 1) / p->panel_cols;
    for (uint32_t panel = 0; panel < panels; panel++)
        for (uint32_t k = 0; k < p->k_rows; k++)
            for (uint32_t j = 0; j < p->panel_cols; j++) {
                uint64_t n = (uint64_t)panel * p->panel_cols + j;
                char *at = (char *)packed + (((uint64_t)panel * p->k_rows + k) * p->panel_cols + j) * size;
                char *from = (char *)tensor + ((uint64_t)k * p->k_stride + n * p->n_stride) * size;
                if (unpack && n < p->n_cols) memcpy(from, at, size);
                else if (!unpack && n < p->n_cols) memcpy(at, from, size);
                else if (!unpack) memset(at, 0, size);
            }
}

static porta_quant_layout quant_layout(const porta_plan_packing *p)
{
    return (porta_quant_layout){p->quant_block, p->k_rows, p->n_cols, p->k_stride, p->n_stride};
}

static porta_status upload_held(porta_program *program, porta_tensor_id t, int buffer,
                                const void *data, size_t bytes);
static porta_status download_held(porta_program *program, porta_tensor_id t, int buffer,
                                  void *data, size_t bytes);

porta_status porta_program_set(porta_program *program, const char *name, const void *data,
                               size_t bytes)
{
    if (!program) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_tensor_id t;
    int buffer;
    porta_status status = porta_program_wait(program);
    if (status != PORTA_OK) return status;
    status = find_io(program, "porta_program_set", name, bytes, true, &t, &buffer);
    if (status != PORTA_OK) return status;
    if (!data && bytes)
        return porta_error(porta_program_context(program), PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_program_set: data is NULL");
    const porta_tensor *tensor = &program->graph->tensors[t];
    /* a weight shared with other programs gets a buffer of its own before it changes */
    if (program->shared[buffer]) status = porta_program_own_buffer(program, buffer);
    if (status != PORTA_OK) return status;
    if (tensor->format != PORTA_WEIGHT_BF16) return upload_held(program, t, buffer, data, bytes);
    /* a bf16 weight: the floats rounded, then laid out as 16-bit values */
    size_t count = bytes / sizeof(float);
    uint16_t *held = malloc(count * sizeof *held + 2);
    if (!held)
        return porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    const float *values = data;
    for (size_t i = 0; i < count; i++) held[i] = porta_f32_to_bf16(values[i]);
    status = upload_held(program, t, buffer, held, count * sizeof *held);
    free(held);
    return status;
}

/* Uploads `data`, the tensor's elements as the device holds them (16-bit for f16 and bf16),
 * laid out in panels or quantized where its packing says. */
static porta_status upload_held(porta_program *program, porta_tensor_id t, int buffer,
                                const void *data, size_t bytes)
{
    porta_status status = PORTA_OK;
    const porta_tensor *tensor = &program->graph->tensors[t];
    /* the tensor's own range of its buffer: a buffer may hold a group's weights (plan.h); the
     * device holds an f16 tensor as f16, so only panels and 8-bit weights are laid out here */
    const porta_plan_ref *at = &program->plan->tensor_at[t];
    const porta_plan_packing *packing = &program->plan->tensor_packing[t];
    if (!packing->panel_cols && !packing->quant_block)
        return program->backend->buffer_upload(program->buffers[buffer], at->offset, data, bytes);
    void *packed = malloc(at->bytes);
    if (!packed) return porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    porta_quant_layout layout = quant_layout(packing);
    if (!packing->quant_block) {
        pack_panels(packing, data, packed, false);
    } else {
        /* quantized from floats */
        float *wide = NULL;
        if (tensor->dtype == PORTA_F16) {
            const uint16_t *half = data;
            size_t count = bytes / sizeof *half;
            wide = malloc(count * sizeof *wide + 1);
            for (size_t i = 0; wide && i < count; i++) wide[i] = porta_f16_to_f32(half[i]);
        }
        if ((tensor->dtype == PORTA_F16 && !wide) ||
            !porta_quantize_as(&layout, packing->panel_cols != 0, wide ? wide : data, packed))
            status = porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY,
                                 "out of memory");
        free(wide);
    }
    if (status != PORTA_OK) {
        free(packed);
        return status;
    }
    status = program->backend->buffer_upload(program->buffers[buffer], at->offset, packed,
                                             at->bytes);
    free(packed);
    return status;
}

porta_status porta_program_get(porta_program *program, const char *name, void *data, size_t bytes)
{
    if (!program) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_tensor_id t;
    int buffer;
    porta_status status = porta_program_wait(program);
    if (status != PORTA_OK) return status;
    status = find_io(program, "porta_program_get", name, bytes, false, &t, &buffer);
    if (status != PORTA_OK) return status;
    if (!data && bytes)
        return porta_error(porta_program_context(program), PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_program_get: data is NULL");
    const porta_tensor *tensor = &program->graph->tensors[t];
    if (tensor->format != PORTA_WEIGHT_BF16) return download_held(program, t, buffer, data, bytes);
    size_t count = bytes / sizeof(float);
    uint16_t *held = malloc(count * sizeof *held + 2);
    if (!held)
        return porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    status = download_held(program, t, buffer, held, count * sizeof *held);
    float *values = data;
    for (size_t i = 0; status == PORTA_OK && i < count; i++) values[i] = porta_bf16_to_f32(held[i]);
    free(held);
    return status;
}

/* Downloads the tensor's elements as the device holds them (upload_held's inverse). */
static porta_status download_held(porta_program *program, porta_tensor_id t, int buffer,
                                  void *data, size_t bytes)
{
    porta_status status = PORTA_OK;
    const porta_tensor *tensor = &program->graph->tensors[t];
    const porta_plan_ref *at = &program->plan->tensor_at[t];
    const porta_plan_packing *packing = &program->plan->tensor_packing[t];
    if (!packing->panel_cols && !packing->quant_block)
        return program->backend->buffer_download(program->buffers[buffer], at->offset, data,
                                                 bytes);
    void *packed = malloc(at->bytes);
    if (!packed)
        return porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    status = program->backend->buffer_download(program->buffers[buffer], at->offset, packed,
                                               at->bytes);
    if (status == PORTA_OK && !packing->quant_block) {
        pack_panels(packing, data, packed, true);
    } else if (status == PORTA_OK) {
        size_t count = bytes / porta_dtype_size(tensor->dtype);
        bool f16 = tensor->dtype == PORTA_F16;
        float *wide = f16 ? malloc(count * sizeof *wide + 1) : data;
        porta_quant_layout layout = quant_layout(packing);
        if (!wide || !porta_dequantize_as(&layout, packing->panel_cols != 0, packed, wide))
            status = porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY,
                                 "out of memory");
        uint16_t *half = data;
        if (status == PORTA_OK && f16)
            for (size_t i = 0; i < count; i++) half[i] = porta_f32_to_f16(wide[i]);
        if (f16) free(wide);
    }
    free(packed);
    return status;
}

porta_status porta_program_submit(porta_program *program)
{
    if (!program) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_status status = porta_program_wait(program);
    if (status != PORTA_OK) return status;
    program->ran = true;
    if (!program->sequence) return PORTA_OK;
    status = program->backend->sequence_submit(program->sequence);
    program->in_flight = status == PORTA_OK;
    return status;
}

porta_status porta_program_poll(porta_program *program, bool *out_done)
{
    if (out_done) *out_done = false;
    if (!program || !out_done) return PORTA_ERROR_INVALID_ARGUMENT;
    if (!program->in_flight) {
        *out_done = true;
        return PORTA_OK;
    }
    return program->backend->sequence_poll(program->sequence, out_done);
}

porta_status porta_program_wait(porta_program *program)
{
    if (!program) return PORTA_ERROR_INVALID_ARGUMENT;
    if (!program->in_flight) return PORTA_OK;
    program->in_flight = false;
    return program->backend->sequence_wait(program->sequence);
}

porta_status porta_program_run(porta_program *program)
{
    porta_status status = porta_program_submit(program);
    return status == PORTA_OK ? porta_program_wait(program) : status;
}

porta_status porta_program_profile(porta_program *program, porta_step_time *out, int max,
                                   int *out_count)
{
    if (!program || !out_count || (max > 0 && !out)) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_count = 0;
    porta_context *context = porta_program_context(program);
    porta_status waited = porta_program_wait(program);
    if (waited != PORTA_OK) return waited;
    if (!program->profile)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "porta_program_profile: the program was made without "
                           "PORTA_PROGRAM_PROFILE");
    if (!program->ran)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_program_profile: the program has not run yet");
    const porta_plan *plan = program->plan;
    int n = plan->n_steps;
    double *ns = calloc((size_t)n + 1, sizeof *ns);
    if (!ns) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    porta_status status = n ? program->backend->sequence_times(program->sequence, ns, n) : PORTA_OK;
    if (status == PORTA_OK) {
        for (int i = 0; i < n && i < max; i++) {
            const porta_node *node = &program->graph->nodes[plan->steps[i].node];
            out[i] = (porta_step_time){plan->steps[i].kernel->name, plan->steps[i].op,
                                       program->graph->tensors[node->output].name, ns[i]};
        }
        *out_count = n;
    }
    free(ns);
    return status;
}

porta_status porta_program_describe(const porta_program *program, char **out_text)
{
    if (!out_text) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_text = NULL;
    if (!program) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_strbuf text = {0};
    porta_plan_format(program->plan, &text);
    if (!text.data || text.failed) {
        porta_strbuf_free(&text);
        return porta_error(porta_program_context(program), PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    *out_text = text.data;
    return PORTA_OK;
}

void porta_program_memory(const porta_program *program, uint64_t *out_arena_peak,
                          uint64_t *out_intermediates)
{
    if (out_arena_peak) *out_arena_peak = program ? program->plan->arena_peak : 0;
    if (out_intermediates) *out_intermediates = program ? program->plan->intermediates_bytes : 0;
}

uint64_t porta_program_weight_bytes(const porta_program *program)
{
    uint64_t bytes = 0;
    for (int b = 0; program && b < program->plan->n_buffers; b++)
        if (program->plan->buffers[b].kind == PORTA_PLAN_WEIGHT)
            bytes += program->plan->buffers[b].bytes;
    return bytes;
}
