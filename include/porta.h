/* porta: graphs of attention operations on any GPU through OpenCL or Vulkan.
 *
 * This is the one public header. Conventions:
 * - Every fallible call returns a porta_status; the context it was given keeps a message that names
 *   what was wrong and where (porta_last_error). Out-parameters are set to NULL/0 first.
 * - Handles are opaque. Whoever creates a handle destroys it; destroy functions accept NULL.
 * - Nothing here aborts, exits or prints (unless logging is asked for: porta_context_options).
 * - Threads: there is no global mutable state. A context and everything made with it (graphs,
 *   weights, devices, programs) is used by one thread at a time: calls on them are serialised by
 *   the caller, who may hand them from one thread to another. Separate contexts share nothing and
 *   may be used from separate threads at once, each with its own devices and programs. The
 *   functions that take no handle (porta_version, porta_status_name, porta_dtype_name,
 *   porta_dtype_size, porta_device_type_name) may be called from any thread at any time.
 * - ABI: the soname's number is PORTA_VERSION_MAJOR. Option structs the caller fills carry a
 *   leading struct_size (set by their _INIT macro), so a later version can append fields; every
 *   other public struct is frozen within a major version (docs/embedding.md).
 */
#ifndef PORTA_H
#define PORTA_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(PORTA_STATIC_BUILD)
#define PORTA_API __attribute__((visibility("default")))
#else
#define PORTA_API
#endif

/* The version of this header. porta_version() gives the library's, so a program that loads the
 * library at run time can check that the two agree. */
#define PORTA_VERSION_MAJOR 0
#define PORTA_VERSION_MINOR 1
#define PORTA_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library. Never NULL. */
PORTA_API const char *porta_version(void);

#define PORTA_MAX_RANK 4

typedef enum porta_status {
    PORTA_OK = 0,
    PORTA_ERROR_INVALID_ARGUMENT, /* a NULL handle, a bad enum value, an out-of-range index */
    PORTA_ERROR_PARSE,            /* .pg text that does not follow the grammar */
    PORTA_ERROR_INVALID_GRAPH,    /* undefined or duplicate names, cycles, bad attributes */
    PORTA_ERROR_SHAPE,            /* operand shapes or dtypes that an op does not accept */
    PORTA_ERROR_OUT_OF_MEMORY,
    PORTA_ERROR_IO,               /* a file that cannot be opened, read or written */
    PORTA_ERROR_UNSUPPORTED,      /* valid, but not available here (an API, a driver, a dtype) */
    PORTA_ERROR_DEVICE,           /* a driver call failed; the message names the call and its code */
    PORTA_ERROR_NOT_FOUND,        /* a named tensor, weight or device that does not exist */
    PORTA_ERROR_INTERNAL,         /* a broken invariant inside porta: a bug to report */
} porta_status;

/* A short fixed name for a status ("PORTA_ERROR_SHAPE"). Never NULL. */
PORTA_API const char *porta_status_name(porta_status status);

typedef enum porta_dtype {
    PORTA_F32 = 0,
    PORTA_F16 = 1,
    PORTA_I32 = 2,
} porta_dtype;

/* "f32", "f16", "i32"; NULL for a value outside the enum. */
PORTA_API const char *porta_dtype_name(porta_dtype dtype);
/* Bytes per element: 4, 2, 4; 0 for a value outside the enum. */
PORTA_API size_t porta_dtype_size(porta_dtype dtype);

/* ---------------------------------------------------------------------------------------------- */
/* Context                                                                                         */

typedef struct porta_context porta_context;

/* How much porta tells a log callback (or stderr): each level includes the ones above it. */
typedef enum porta_log_level {
    PORTA_LOG_OFF = 0,
    PORTA_LOG_ERROR = 1,       /* every failed call's message, as porta_last_error gives it */
    PORTA_LOG_WARNING = 2,     /* something went on without what was asked (a cache entry
                                  discarded, a cache folder that cannot be made) */
    PORTA_LOG_INFO = 3,        /* devices opened, files read */
    PORTA_LOG_DEBUG = 4,       /* every kernel built or loaded, every memory block */
} porta_log_level;

/* Receives one message, without a trailing newline, on the thread that made the call that logs
 * it. `message` is valid only during the call. */
typedef void (*porta_log_callback)(void *user, porta_log_level level, const char *message);

/* Options of a context. Set `struct_size` to sizeof(porta_context_options), as
 * PORTA_CONTEXT_OPTIONS_INIT does: fields a later porta.h appends are then defaulted for a program
 * built against this one. Every field's zero value (NULL) means "the default", which comes from
 * the environment variable named; the environment is read only when the context is created. */
typedef struct porta_context_options {
    size_t struct_size;
    /* The folder of compiled kernels kept across runs, created if missing; "" keeps none.
     * NULL: $PORTA_CACHE_DIR ("" or "off": none), else $XDG_CACHE_HOME/porta, else
     * $HOME/.cache/porta, else none. */
    const char *cache_dir;
    /* Where log messages go; NULL: stderr, each line prefixed "porta: ". */
    porta_log_callback log_callback;
    void *log_user;                /* passed to log_callback */
    /* Messages up to this level are logged. PORTA_LOG_OFF (0) means the default: $PORTA_LOG
     * ("error", "warning", "info" or "debug"), else nothing. */
    porta_log_level log_level;
    /* The APIs porta loads, in the order devices are listed and "auto" prefers them:
     * "vulkan,opencl", "opencl", ... NULL: $PORTA_BACKENDS, else "vulkan,opencl". */
    const char *backends;
} porta_context_options;

#define PORTA_CONTEXT_OPTIONS_INIT {sizeof(porta_context_options), NULL, NULL, NULL, PORTA_LOG_OFF, NULL}

/* Creates a context: the owner of error messages, devices and their caches. Same as
 * porta_context_create_with(NULL, ...): every option from the environment. */
PORTA_API porta_status porta_context_create(porta_context **out_context);
/* Creates a context with options (NULL: all defaults). Fails with PORTA_ERROR_INVALID_ARGUMENT
 * for a struct_size this library does not know, or a backend name it does not have; there is no
 * context yet to hold the message, so it goes to the log callback (if any). */
PORTA_API porta_status porta_context_create_with(const porta_context_options *options,
                                                 porta_context **out_context);
PORTA_API void porta_context_destroy(porta_context *context);

/* The message of the last failed call made with this context, or "" if none failed. The pointer
 * stays valid until the next call that uses the context. */
PORTA_API const char *porta_last_error(const porta_context *context);

/* ---------------------------------------------------------------------------------------------- */
/* Graphs                                                                                          */

typedef struct porta_graph porta_graph;

/* A tensor of a graph: an input, a weight or the result of a node. Ids are dense, from 0. */
typedef int32_t porta_tensor_id;

typedef struct porta_shape {
    int rank;                      /* 0..PORTA_MAX_RANK; rank 0 is a scalar */
    int64_t dims[PORTA_MAX_RANK];  /* each > 0 */
} porta_shape;

typedef enum porta_attr_kind {
    PORTA_ATTR_INT = 0,
    PORTA_ATTR_FLOAT,
    PORTA_ATTR_BOOL,
    PORTA_ATTR_STRING,
    PORTA_ATTR_INTS,
} porta_attr_kind;

/* One named attribute of a node, as the builder takes it. Strings and lists are copied. */
typedef struct porta_attr {
    const char *name;
    porta_attr_kind kind;
    int64_t i;                 /* PORTA_ATTR_INT */
    double f;                  /* PORTA_ATTR_FLOAT (an INT is accepted where a FLOAT is expected) */
    bool b;                    /* PORTA_ATTR_BOOL */
    const char *s;             /* PORTA_ATTR_STRING */
    const int64_t *ints;       /* PORTA_ATTR_INTS */
    int n_ints;
} porta_attr;

/* An optional operand given by name (the .pg form `mask=m`). */
typedef struct porta_named_operand {
    const char *name;
    porta_tensor_id tensor;
} porta_named_operand;

/* An empty graph named `name` (an identifier), to be filled with the builder calls below. */
PORTA_API porta_status porta_graph_create(porta_context *context, const char *name,
                                          porta_graph **out_graph);
PORTA_API void porta_graph_destroy(porta_graph *graph);

/* Parses .pg text. `filename` is only used in messages ("file:line:col: ..."). The graph is also
 * validated: every shape is inferred, so a graph returned here is ready to use. */
PORTA_API porta_status porta_graph_parse(porta_context *context, const char *text, size_t length,
                                         const char *filename, porta_graph **out_graph);
/* Reads and parses a .pg file. */
PORTA_API porta_status porta_graph_load(porta_context *context, const char *path,
                                        porta_graph **out_graph);

/* Declares a graph input. */
PORTA_API porta_status porta_graph_add_input(porta_graph *graph, const char *name,
                                             porta_dtype dtype, const porta_shape *shape,
                                             porta_tensor_id *out_tensor);
/* Declares a weight. `key` is its name in a weights file; NULL means the same as `name`. */
PORTA_API porta_status porta_graph_add_weight(porta_graph *graph, const char *name,
                                              porta_dtype dtype, const porta_shape *shape,
                                              const char *key, porta_tensor_id *out_tensor);
/* How a weight is held on the device (docs/weights.md, "8-bit weights" and "bf16 weights").
 * The graph sees an f32 weight either way: porta_program_set takes floats and quantizes or
 * rounds them, porta_program_get returns the values held. PORTA_WEIGHT_I8C: int8 with one f32
 * scale per output channel; PORTA_WEIGHT_Q8_0: int8 in blocks of 32 along the reduced dim, one
 * f32 scale each. Only an f32 weight of rank 2 read only as linear's weight or matmul's b may
 * be quantized, and for q8_0 its reduced dim must be a multiple of 32. PORTA_WEIGHT_BF16:
 * bfloat16, 2 bytes a value, read by every op as the f32 it widens to exactly; any f32 weight
 * that is no graph output may be held so. porta_graph_validate checks. */
typedef enum porta_weight_format {
    PORTA_WEIGHT_PLAIN = 0,
    PORTA_WEIGHT_I8C = 1,
    PORTA_WEIGHT_Q8_0 = 2,
    PORTA_WEIGHT_BF16 = 3,
} porta_weight_format;
/* "plain", "i8c", "q8_0", "bf16"; NULL for a value outside the enum. */
PORTA_API const char *porta_weight_format_name(porta_weight_format format);
/* Sets how weight `weight` is held; the graph must be validated again. */
PORTA_API porta_status porta_graph_set_weight_format(porta_graph *graph, porta_tensor_id weight,
                                                     porta_weight_format format);
/* Sets every weight that may be held 8-bit (above) and is read by a linear or matmul to
 * `format`, and validates the graph again; weights that may not (a q8_0 whose reduced dim is no
 * multiple of 32, a weight something else reads as well) stay as they are. With
 * PORTA_WEIGHT_BF16, every plain f32 weight that is no output. *out_count (may be NULL) gets how
 * many were set. */
PORTA_API porta_status porta_graph_quantize_weights(porta_graph *graph, porta_weight_format format,
                                                    int *out_count);
/* How `tensor` is held: PORTA_WEIGHT_PLAIN for anything but an 8-bit or bf16 weight. */
PORTA_API porta_weight_format porta_graph_weight_format(const porta_graph *graph,
                                                        porta_tensor_id tensor);
/* Makes dim `axis` of input `input` a dim known only at run time, named `symbol` (declared
 * here with maximum `max`, or declared before with the same maximum): `S <= 128` in .pg text.
 * The graph is validated with every such dim at its maximum; a program made from it runs at any
 * values up to the maxima (porta_program_bind) without compiling again. */
PORTA_API porta_status porta_graph_set_dim_symbol(porta_graph *graph, porta_tensor_id input,
                                                  int axis, const char *symbol, int64_t max);
/* The graph's named dims: how many, and dim `index`'s name, maximum and current value. */
PORTA_API int porta_graph_symbol_count(const porta_graph *graph);
PORTA_API porta_status porta_graph_symbol_info(const porta_graph *graph, int index,
                                               const char **out_name, int64_t *out_max,
                                               int64_t *out_value);
/* Adds a node applying `op` (a name from the op table, e.g. "attention") to positional operands
 * and optional named operands, with attributes. `name` names the result; NULL picks a fresh "_N".
 * Checks the op, operand count and attribute names, kinds and values at once; shapes are checked
 * by porta_graph_validate. */
PORTA_API porta_status porta_graph_add_node(porta_graph *graph, const char *name, const char *op,
                                            int n_operands, const porta_tensor_id *operands,
                                            int n_named, const porta_named_operand *named,
                                            int n_attrs, const porta_attr *attrs,
                                            porta_tensor_id *out_tensor);
/* Marks a tensor as an output of the graph. Outputs keep the order they were marked in (a .pg
 * file's `output` line's order); marking one again keeps its first place. */
PORTA_API porta_status porta_graph_mark_output(porta_graph *graph, porta_tensor_id tensor);
/* The number of outputs, and output `index` (0..count-1) in marking order; -1 out of range. */
PORTA_API int porta_graph_output_count(const porta_graph *graph);
PORTA_API porta_tensor_id porta_graph_output(const porta_graph *graph, int index);

/* Checks the whole graph (names, cycles, operand dtypes and shapes) and infers every shape. */
PORTA_API porta_status porta_graph_validate(porta_graph *graph);

/* The graph as .pg text, one statement a line; parsing it gives the same graph. Free with
 * porta_free. The graph must be valid. */
PORTA_API porta_status porta_graph_print(const porta_graph *graph, char **out_text);

/* Inspection of a validated graph. */
PORTA_API const char *porta_graph_name(const porta_graph *graph);
PORTA_API int porta_graph_tensor_count(const porta_graph *graph);
PORTA_API porta_tensor_id porta_graph_find_tensor(const porta_graph *graph, const char *name); /* -1 if none */

typedef enum porta_tensor_kind {
    PORTA_TENSOR_INPUT = 0,
    PORTA_TENSOR_WEIGHT,
    PORTA_TENSOR_NODE,
} porta_tensor_kind;

typedef struct porta_tensor_info {
    const char *name;
    porta_tensor_kind kind;
    porta_dtype dtype;
    porta_shape shape;
    bool is_output;
    const char *op;            /* PORTA_TENSOR_NODE: the op's name; otherwise NULL */
    const char *key;           /* PORTA_TENSOR_WEIGHT: its key in a weights file; otherwise NULL */
    uint64_t flops;            /* PORTA_TENSOR_NODE: floating-point operations of its node */
    uint64_t bytes;            /* PORTA_TENSOR_NODE: bytes its node reads and writes */
} porta_tensor_info;

PORTA_API porta_status porta_graph_tensor_info(const porta_graph *graph, porta_tensor_id tensor,
                                               porta_tensor_info *out_info);

/* Frees memory that porta returned to the caller (printed text). Accepts NULL. */
PORTA_API void porta_free(void *pointer);

/* ---------------------------------------------------------------------------------------------- */
/* Devices and runtime                                                                             */
/*
 * Devices come from every registered backend (OpenCL, Vulkan). The API libraries are opened at run
 * time, so a missing libOpenCL or libvulkan only removes that API's devices: listing still works
 * and porta_device_absent says which API is absent and why. */

typedef enum porta_device_type {
    PORTA_DEVICE_OTHER = 0,
    PORTA_DEVICE_INTEGRATED_GPU,
    PORTA_DEVICE_DISCRETE_GPU,
    PORTA_DEVICE_VIRTUAL_GPU,
    PORTA_DEVICE_CPU,
} porta_device_type;

/* "other", "integrated-gpu", "discrete-gpu", "virtual-gpu", "cpu"; never NULL. */
PORTA_API const char *porta_device_type_name(porta_device_type type);

/* What a device is and what it can do, from the backend's capability probe. */
typedef struct porta_device_desc {
    char id[32];                   /* "opencl:1", "vulkan:0": backend and index; also a selector */
    char backend[16];              /* "opencl", "vulkan" */
    int index;                     /* among the backend's devices, from 0 */
    char vendor[128];
    char name[256];
    char driver_version[128];
    char api_version[64];          /* "OpenCL 3.0 ...", "1.3.230" */
    porta_device_type type;
    uint64_t memory_bytes;         /* global (OpenCL) / device-local (Vulkan) memory */
    uint64_t max_buffer_bytes;     /* largest single buffer or binding range */
    uint32_t max_workgroup_size;   /* invocations per work-group */
    uint64_t shared_memory_bytes;  /* local (OpenCL) / shared (Vulkan) memory per work-group */
    uint32_t subgroup_size;        /* 0: no subgroups, or none that can be queried */
    bool fp16;                     /* 16-bit float arithmetic in kernels */
    bool timestamps;               /* per-dispatch device times available */
} porta_device_desc;

/* Lists the devices of the context's backends, in their order (by default Vulkan, then
 * OpenCL), then by index. Writes up to `max` descriptions to `out` (which may be NULL when max is 0) and the total
 * number found to *out_count, which may exceed max. An API whose library is missing or fails to
 * enumerate contributes no devices and is not an error: its reason is kept on the context (see
 * porta_device_absent). */
PORTA_API porta_status porta_device_list(porta_context *context, porta_device_desc *out, int max,
                                         int *out_count);

/* One line per API found absent by the last porta_device_list or porta_device_open on this
 * context, e.g. "opencl: /x/libOpenCL.so not found (dlopen: ...)"; "" when every API loaded. */
PORTA_API const char *porta_device_absent(const porta_context *context);

typedef struct porta_device porta_device;

/* Opens a device. `selector` is one of:
 *   "auto"        a discrete GPU, else an integrated GPU, else the first device found;
 *   "opencl:1"    a backend and an index (the `id` of a description);
 *   "opencl"      the first device of a backend;
 *   anything else a case-insensitive substring of the device name (the first match).
 * NULL means "auto". The context must outlive the device. */
PORTA_API porta_status porta_device_open(porta_context *context, const char *selector,
                                         porta_device **out_device);
PORTA_API void porta_device_close(porta_device *device);

/* The description of an opened device; never NULL for a non-NULL device. */
PORTA_API const porta_device_desc *porta_device_info(const porta_device *device);

/* How an opened device got its compiled kernels so far. */
typedef struct porta_cache_stats {
    uint64_t built;                /* compiled from source */
    uint64_t loaded;               /* loaded from the on-disk cache */
    uint64_t reused;               /* found already compiled in this device's memory */
} porta_cache_stats;

PORTA_API porta_status porta_device_cache_stats(const porta_device *device,
                                                porta_cache_stats *out_stats);
/* Weights                                                                                         */

/* An open safetensors file: memory-mapped read-only, its header checked against the file. */
typedef struct porta_weights porta_weights;

/* Opens and checks a safetensors file (docs/weights.md): the header length, the JSON header (an
 * object of tensors, each with dtype, shape and data_offsets) and every tensor's byte range
 * against the data section. Tensors of a dtype porta cannot convert (I64, F64, ...) or of a rank
 * above PORTA_MAX_RANK are listed, and fail only when read or bound. Messages name the file and
 * the tensor. The context must outlive the handle. */
PORTA_API porta_status porta_weights_open(porta_context *context, const char *path,
                                          porta_weights **out_weights);
/* Unmaps the file. Accepts NULL. */
PORTA_API void porta_weights_close(porta_weights *weights);

/* The number of tensors in the file (`__metadata__` is not one). 0 for NULL. */
PORTA_API int porta_weights_count(const porta_weights *weights);

typedef struct porta_weight_info {
    const char *name;          /* its key in the file */
    const char *dtype;         /* as the file spells it: "F32", "F16", "BF16", "I32", "I64", ... */
    bool usable;               /* false: porta cannot read it (its dtype or its rank) */
    int rank;                  /* may exceed PORTA_MAX_RANK in the file */
    const int64_t *dims;       /* `rank` entries (each >= 0) */
    uint64_t offset;           /* of its first byte, from the start of the data section */
    uint64_t bytes;
} porta_weight_info;

/* Tensor `index` (0..count-1, in order of name). Strings and dims stay valid until the weights
 * are closed. */
PORTA_API porta_status porta_weights_info(const porta_weights *weights, int index,
                                          porta_weight_info *out_info);
/* The index of the tensor named `key`, or -1. */
PORTA_API int porta_weights_find(const porta_weights *weights, const char *key);

/* Copies tensor `key` into `dst` (at least dst_bytes, which must hold every element) converted to
 * `want`: F32, F16 and BF16 tensors read as f32 or f16 (f16 rounds to nearest even; values past
 * the f16 range become infinities), I32 tensors as i32, and an I8 tensor beside a KEY.scale
 * tensor (8-bit weights, docs/weights.md) as f32, int8 times scale. `want_shape`, when not
 * NULL, must equal the tensor's shape. Fails with PORTA_ERROR_NOT_FOUND for a missing key (naming a close one if
 * any), PORTA_ERROR_SHAPE for another shape or a dtype that does not convert, and
 * PORTA_ERROR_UNSUPPORTED for a dtype or rank porta cannot read. */
PORTA_API porta_status porta_weights_read(porta_weights *weights, const char *key, porta_dtype want,
                                          const porta_shape *want_shape, void *dst,
                                          size_t dst_bytes);

/* Checks that every weight of `graph` is in `weights` under its key, with the same shape and a
 * dtype that converts to the weight's. The message names the first weight that fails (with its
 * .pg position when it has one) and counts the others that fail too. */
PORTA_API porta_status porta_graph_check_weights(porta_graph *graph, porta_weights *weights);

/* ---------------------------------------------------------------------------------------------- */
/* Programs: a graph compiled for one device                                                      */
/*
 * A program is a validated graph lowered to a plan for one device (docs/design.md): every
 * intermediate in one arena placed by liveness, the kernels compiled (or loaded from the on-disk
 * cache) and the dispatches recorded once. Inputs and weights are set through host memory in
 * the tensor's dtype (f32: float, f16: uint16_t bit patterns, i32: int32_t), row-major; a run
 * submits the recording (and waits, or returns at once: porta_program_submit); outputs are read
 * back the same way. */

typedef struct porta_program porta_program;

#define PORTA_PROGRAM_PROFILE 0x1u      /* record device timestamps around every step */

/* Lowers and compiles `graph` (validated; it must outlive the program) for `device`. Weights and
 * inputs start as zeros. Fails naming the node when a node cannot run on this device. */
PORTA_API porta_status porta_program_create(porta_device *device, const porta_graph *graph,
                                            uint32_t flags, porta_program **out_program);
/* Accepts NULL. */
PORTA_API void porta_program_destroy(porta_program *program);

/* Copies the value of input or weight `name` to the device; `bytes` must be the tensor's size
 * in its dtype. */
PORTA_API porta_status porta_program_set(porta_program *program, const char *name,
                                         const void *data, size_t bytes);
/* Sets every weight of the graph from a safetensors file, converting f32, f16 and bf16 to the
 * weight's dtype; the message names the weight that is missing, mis-shaped or of a dtype that
 * does not convert. */
PORTA_API porta_status porta_program_set_weights(porta_program *program, porta_weights *weights);

/* Binds named dims (porta_graph_set_dim_symbol, `S <= 128`) to values for the runs that follow:
 * `names[i]` to `values[i]` (1 up to its maximum; dims not named keep their values; a program
 * starts at the maxima). The program plans the graph again at those values, with their grids
 * and parameters, compiling only kernel configurations it has never compiled (usually none), and
 * keeps its weights and every buffer that still serves. Inputs and outputs then have the bound
 * shapes (set and get take their sizes); an input whose shape changed holds unspecified values
 * until set. Weights laid out anew at these values are read again from the weights handle last
 * given to porta_program_set_weights, which must stay open while the program is bound. A value
 * whose shapes do not validate fails naming it and the node, and leaves the binding as it was. */
PORTA_API porta_status porta_program_bind(porta_program *program, const char *const *names,
                                          const int64_t *values, int count);

/* Runs every step once and waits for the device: porta_program_submit, then porta_program_wait. */
PORTA_API porta_status porta_program_run(porta_program *program);

/* Asynchronous runs. Submit starts a run and returns at once, so the caller can work (or submit
 * other programs, of this device or another) while the device computes. Until the run is waited
 * for, the program's buffers are the device's: porta_program_set, _get, _set_weights, _profile,
 * _destroy and another _submit first wait for it themselves (and return its error, if it failed).
 * Several programs may be in flight on one device at once; a device runs them in the order they
 * were submitted. */
PORTA_API porta_status porta_program_submit(porta_program *program);
/* Sets *out_done: true when the program has no run in flight or its run has finished (failed
 * ones too; porta_program_wait gives the error). Never blocks. */
PORTA_API porta_status porta_program_poll(porta_program *program, bool *out_done);
/* Blocks until the submitted run has finished and returns its status; PORTA_OK at once when no
 * run is in flight. */
PORTA_API porta_status porta_program_wait(porta_program *program);

/* State that stays on the device (a decoder's KV cache), copied on the device, never through
 * the host. porta_program_copy copies, for each i < count, tensor `src_names[i]` of `src` (an
 * input or output) into input `dst_names[i]` of `dst`, one dtype and shape each; the programs
 * are on one device and may be the same one. It waits for both programs' runs first and returns
 * when the copies are done. */
PORTA_API porta_status porta_program_copy(porta_program *dst, const char *const *dst_names,
                                          porta_program *src, const char *const *src_names,
                                          int count);
/* From the next run on, every run of `program` ends by copying its output `src_name` into its
 * input `dst_name` on the device (a decode step's updated cache becomes the next step's cache),
 * recorded with the run's own steps. An input receives from one output at most. */
PORTA_API porta_status porta_program_carry(porta_program *program, const char *dst_name,
                                           const char *src_name);

/* Copies output (or input or weight) `name` back; `bytes` must be the tensor's size. */
PORTA_API porta_status porta_program_get(porta_program *program, const char *name, void *data,
                                         size_t bytes);

/* One step of the last run, with PORTA_PROGRAM_PROFILE. */
typedef struct porta_step_time {
    const char *kernel;            /* the kernel's name */
    const char *op;                /* the op of the node it implements */
    const char *tensor;            /* that node's result */
    double ns;                     /* device time */
} porta_step_time;

/* The per-step times of the last run: up to `max` entries, the step count in *out_count.
 * PORTA_ERROR_UNSUPPORTED when the program was made without PORTA_PROGRAM_PROFILE or the device
 * has no timestamps. Strings live as long as the program. */
PORTA_API porta_status porta_program_profile(porta_program *program, porta_step_time *out,
                                             int max, int *out_count);

/* The plan as text (buffers, steps with kernels, bindings, grids and dependencies, the arena's
 * peak against all intermediates); free it with free(). */
PORTA_API porta_status porta_program_describe(const porta_program *program, char **out_text);

/* The arena's size and the sum of all intermediates' sizes, in bytes. */
PORTA_API void porta_program_memory(const porta_program *program, uint64_t *out_arena_peak,
                                    uint64_t *out_intermediates);
/* Bytes of device memory the program's weights take as laid out (packed panels, 8-bit weights
 * with their scales); 0 for NULL. */
PORTA_API uint64_t porta_program_weight_bytes(const porta_program *program);

#ifdef __cplusplus
}
#endif
#endif /* PORTA_H */
