/* The plan: what a validated graph becomes for one device, as plain data. The runtime sees only
 * this (runtime/program.c turns it into buffers, kernels and one recorded sequence); graphs/
 * builds it (graphs/lower/lower.c) without knowing any GPU API.
 *
 * Storage: the arenas hold every intermediate at an offset chosen from liveness: buffer 0, and
 * when one binding cannot reach them all (max_buffer_bytes) further arena buffers after the
 * tensors' own, no intermediate straddling two. Each input, weight and output tensor has a buffer
 * of its own, so the host reads and writes them without touching an arena. On a device an f32 or
 * i32 element takes 4 bytes and an f16 element 2 (kernels compute in f32 and round what they
 * store, so results match f16 storage between ops); an 8-bit weight is laid out as
 * graphs/quantize.h says. Every buffer and range is a whole number of 32-bit words. */
#ifndef PORTA_PLAN_H
#define PORTA_PLAN_H

#include "graphs/graph.h"
#include "shaders/kernels.h"

#define PORTA_PLAN_MAX_BINDINGS 12
#define PORTA_PLAN_MAX_PARAM_BYTES 128
#define PORTA_PLAN_MAX_DEPS 8
/* Scratch a rule asks for holds f32 (4 bytes an element) whatever its operands are. */
#define PORTA_PLAN_ELEMENT_BYTES 4

/* How a device runs invocations, which decides the shape of a fast kernel:
 *   GPU           invocations are lanes of a GPU's SIMT units; shared memory and many
 *                 work-groups pay
 *   CPU_LANES     a CPU driver that runs `vector_width` invocations in lock-step as the lanes of
 *                 one SIMD register (Mesa's llvmpipe: lavapipe, rusticl); loads whose address
 *                 depends on the invocation go lane by lane, uniform ones once
 *   CPU_VECTORS   a CPU driver that compiles each invocation's vector types to SIMD and
 *                 vectorizes across work-items only around straight-line code (PoCL) */
typedef enum porta_plan_device_kind {
    PORTA_PLAN_GPU = 0,
    PORTA_PLAN_CPU_LANES,
    PORTA_PLAN_CPU_VECTORS,
} porta_plan_device_kind;

/* The limits of a device that lowering needs; porta_plan_default_limits gives portable ones. */
typedef struct porta_plan_limits {
    uint32_t max_workgroup_size;
    uint64_t shared_memory_bytes;
    uint32_t buffer_alignment;      /* binding offsets are multiples of this */
    /* the most bytes one buffer or binding may hold (Vulkan: maxStorageBufferRange, OpenCL:
     * CL_DEVICE_MAX_MEM_ALLOC_SIZE); every arena is at most this, a larger tensor is refused */
    uint64_t max_buffer_bytes;
    uint32_t subgroup_size;         /* 0: none */
    porta_plan_device_kind kind;
    uint32_t vector_width;          /* floats per SIMD register (CPU kinds); 0: unknown */
    /* Kernel variants forced over the rules' choices, "family=variant,..." (for example
     * "gemm=rows8,attention=flash"); NULL or "" lets every rule choose. Conformance runs every
     * variant on every device through this, and a tuned choice arrives the same way. */
    const char *variants;
    /* Variants measured fastest on this device (porta tune), one "family key variant" line per
     * shape a rule decided for; consulted after `variants`, before the rules' own choices. */
    const char *tuned;
    /* Whether lowering fuses pairs of nodes into one step (graphs/lower/fuse.h);
     * porta_plan_default_limits sets it, the runtime clears it for PORTA_FUSION=0. */
    bool fusion;
} porta_plan_limits;

/* Where a rule's variant came from. */
typedef enum porta_plan_choice_source {
    PORTA_PLAN_CHOICE_RULE = 0,
    PORTA_PLAN_CHOICE_TUNED,
    PORTA_PLAN_CHOICE_FORCED,
} porta_plan_choice_source;

/* One variant decision of lowering: the family, the shape it was made for (the key porta tune
 * stores winners under), the candidates, the rule's pick and the one taken. */
typedef struct porta_plan_choice {
    char family[16];
    char key[64];
    const char *const *names;       /* static: the rule's own table */
    int n_names;
    int rule, variant;
    porta_plan_choice_source source;
} porta_plan_choice;

typedef enum porta_plan_buffer_kind {
    PORTA_PLAN_ARENA = 0,
    PORTA_PLAN_INPUT,
    PORTA_PLAN_WEIGHT,
    PORTA_PLAN_OUTPUT,
} porta_plan_buffer_kind;

/* A weight laid out for the gemm when it is set, since a weight is constant across runs
 * (graphs/lower/matmul.c). Element (k, n) of the weight seen as a matrix B [k_rows, n_cols] is
 * element k * k_stride + n * n_stride of the tensor; its range of its buffer (tensor_at) holds
 * ceil(n_cols / 16) panels, each k_rows rows of 16 columns, columns past n_cols zero: float
 * ((n / 16) * k_rows + k) * 16 + n % 16 of the range. panel_cols 0: the tensor as it is.
 * quant_block > 0: an 8-bit weight, int8 values and scales as graphs/quantize.h lays them out
 * (panel_cols 0) or in panels (panel_cols 16), quant_block its block along K. element_bytes: 4
 * for f32, 2 for f16 (panels of halves). */
#define PORTA_PLAN_PANEL_COLS 16u
typedef struct porta_plan_packing {
    uint32_t panel_cols;
    uint32_t k_rows, n_cols, k_stride, n_stride;
    uint32_t quant_block;
    uint32_t element_bytes;
} porta_plan_packing;

/* An own buffer holds one tensor, except the buffers of a fused group of projections
 * (graphs/lower/fuse.h), which hold its weights one after another, and its biases likewise:
 * tensor_buffer_of and tensor_at say where each tensor lies, tensor_packing how. */
typedef struct porta_plan_buffer {
    porta_plan_buffer_kind kind;
    porta_tensor_id tensor;         /* the (first) tensor it holds; -1 for an arena */
    uint64_t bytes;
} porta_plan_buffer;

/* A byte range of a plan buffer. */
typedef struct porta_plan_ref {
    int buffer;
    uint64_t offset, bytes;
} porta_plan_ref;

#define PORTA_PLAN_OP_CHARS 32
typedef struct porta_plan_step {
    /* The graph node it implements: for a fused pair (graphs/lower/fuse.h) the second node,
     * whose result the pair writes, with first_node the first one; else first_node == node. */
    int node, first_node;
    int choice;                                 /* the variant decision it follows; -1: none */
    char op[PORTA_PLAN_OP_CHARS];               /* the op, or the fused ops: "linear+gelu" */
    const porta_kernel_source *kernel;
    porta_kernel_config config;
    int n_bindings;
    porta_plan_ref bindings[PORTA_PLAN_MAX_BINDINGS];
    uint32_t param_bytes;
    uint8_t params[PORTA_PLAN_MAX_PARAM_BYTES];
    uint32_t groups[3];
    uint64_t loop_iterations;                   /* the most one invocation runs (lower.h) */
    /* The latest earlier steps whose bytes this one reads or writes (read after write, write
     * after read or write), most recent first; at most PORTA_PLAN_MAX_DEPS are kept. */
    int n_deps;
    int deps[PORTA_PLAN_MAX_DEPS];
} porta_plan_step;

typedef struct porta_plan {
    const porta_graph *graph;
    porta_plan_limits limits;
    porta_plan_step *steps;
    int n_steps;
    porta_plan_buffer *buffers;                 /* [0] is the first arena */
    int n_buffers;
    int n_arenas;                               /* buffers of kind PORTA_PLAN_ARENA */
    porta_plan_ref *tensor_at;                  /* where each tensor lives, by tensor id */
    int *tensor_buffer_of;                      /* by tensor id: its own buffer, or -1 */
    porta_plan_packing *tensor_packing;         /* by tensor id: a weight's layout in tensor_at */
    uint64_t arena_peak;                        /* bytes of all arenas */
    uint64_t intermediates_bytes;               /* sum over every arena allocation */
    int n_views;                                /* nodes lowered to no step */
    int n_in_place;                             /* steps writing over an operand */
    porta_plan_choice *choices;                 /* one per (family, key), in lowering order */
    int n_choices;
    int n_fused;                                /* pairs of nodes lowered as one */
} porta_plan;

/* Bytes of one element of tensor t on a device (porta_dtype_size), and how a data buffer holds
 * it (kernels.h): an 8-bit weight's words are read as words. */
uint32_t porta_plan_element_bytes(const porta_graph *graph, porta_tensor_id t);
porta_storage_kind porta_plan_storage_kind(const porta_graph *graph, porta_tensor_id t);

/* Limits that suit most GPUs: 256 invocations, 16 KiB shared memory, 256-byte alignment. */
porta_plan_limits porta_plan_default_limits(void);

/* Lowers a validated graph. Errors name the node (file:line:col) and what cannot be lowered. */
porta_status porta_plan_create(const porta_graph *graph, const porta_plan_limits *limits,
                               porta_plan **out_plan);
void porta_plan_destroy(porta_plan *plan);

/* The plan as text: buffers, each step's kernel, bindings, grid and dependencies, and the arena's
 * peak against the sum of all intermediates. */
void porta_plan_format(const porta_plan *plan, porta_strbuf *out);

#endif
