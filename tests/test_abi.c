/* The layout of every public struct of porta.h on LP64, recorded: its size and each field's
 * offset and size. These structs are frozen for a major version (docs/embedding.md), so any
 * difference here is an ABI break that needs a new soname, or a mistake. Also the values of the
 * public enums and flags, which programs compile in. A struct with a body in porta.h that is not
 * recorded here fails too, so a new one gets its layout written down when it is added.
 * usage: test_abi PORTA_H. Exit 77 (skipped) where the data model is not LP64. */
#include <porta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct layout {
    const char *type;
    const char *field;         /* NULL: the row is the struct's own size */
    size_t actual_offset, actual_size;
    size_t offset, size;
} layout;

#define SIZE(type, size) {#type, NULL, 0, sizeof(type), 0, size}
#define FIELD(type, field, offset, size)                                                          \
    {#type, #field, offsetof(type, field), sizeof(((type *)0)->field), offset, size}

static const layout layouts[] = {
    SIZE(porta_shape, 40),
    FIELD(porta_shape, rank, 0, 4),
    FIELD(porta_shape, dims, 8, 32),

    SIZE(porta_attr, 64),
    FIELD(porta_attr, name, 0, 8),
    FIELD(porta_attr, kind, 8, 4),
    FIELD(porta_attr, i, 16, 8),
    FIELD(porta_attr, f, 24, 8),
    FIELD(porta_attr, b, 32, 1),
    FIELD(porta_attr, s, 40, 8),
    FIELD(porta_attr, ints, 48, 8),
    FIELD(porta_attr, n_ints, 56, 4),

    SIZE(porta_named_operand, 16),
    FIELD(porta_named_operand, name, 0, 8),
    FIELD(porta_named_operand, tensor, 8, 4),

    SIZE(porta_tensor_info, 96),
    FIELD(porta_tensor_info, name, 0, 8),
    FIELD(porta_tensor_info, kind, 8, 4),
    FIELD(porta_tensor_info, dtype, 12, 4),
    FIELD(porta_tensor_info, shape, 16, 40),
    FIELD(porta_tensor_info, is_output, 56, 1),
    FIELD(porta_tensor_info, op, 64, 8),
    FIELD(porta_tensor_info, key, 72, 8),
    FIELD(porta_tensor_info, flops, 80, 8),
    FIELD(porta_tensor_info, bytes, 88, 8),

    SIZE(porta_device_desc, 672),
    FIELD(porta_device_desc, id, 0, 32),
    FIELD(porta_device_desc, backend, 32, 16),
    FIELD(porta_device_desc, index, 48, 4),
    FIELD(porta_device_desc, vendor, 52, 128),
    FIELD(porta_device_desc, name, 180, 256),
    FIELD(porta_device_desc, driver_version, 436, 128),
    FIELD(porta_device_desc, api_version, 564, 64),
    FIELD(porta_device_desc, type, 628, 4),
    FIELD(porta_device_desc, memory_bytes, 632, 8),
    FIELD(porta_device_desc, max_buffer_bytes, 640, 8),
    FIELD(porta_device_desc, max_workgroup_size, 648, 4),
    FIELD(porta_device_desc, shared_memory_bytes, 656, 8),
    FIELD(porta_device_desc, subgroup_size, 664, 4),
    FIELD(porta_device_desc, fp16, 668, 1),
    FIELD(porta_device_desc, timestamps, 669, 1),

    SIZE(porta_cache_stats, 24),
    FIELD(porta_cache_stats, built, 0, 8),
    FIELD(porta_cache_stats, loaded, 8, 8),
    FIELD(porta_cache_stats, reused, 16, 8),

    /* an option struct: fields are only appended; struct_size says how many a caller has */
    SIZE(porta_context_options, 48),
    FIELD(porta_context_options, struct_size, 0, 8),
    FIELD(porta_context_options, cache_dir, 8, 8),
    FIELD(porta_context_options, log_callback, 16, 8),
    FIELD(porta_context_options, log_user, 24, 8),
    FIELD(porta_context_options, log_level, 32, 4),
    FIELD(porta_context_options, backends, 40, 8),

    SIZE(porta_weight_info, 48),
    FIELD(porta_weight_info, name, 0, 8),
    FIELD(porta_weight_info, dtype, 8, 8),
    FIELD(porta_weight_info, usable, 16, 1),
    FIELD(porta_weight_info, rank, 20, 4),
    FIELD(porta_weight_info, dims, 24, 8),
    FIELD(porta_weight_info, offset, 32, 8),
    FIELD(porta_weight_info, bytes, 40, 8),

    SIZE(porta_step_time, 32),
    FIELD(porta_step_time, kernel, 0, 8),
    FIELD(porta_step_time, op, 8, 8),
    FIELD(porta_step_time, tensor, 16, 8),
    FIELD(porta_step_time, ns, 24, 8),
};

typedef struct constant {
    const char *name;
    long long actual, value;
} constant;

#define CONSTANT(name, value) {#name, (long long)(name), value}

/* Appending an enumerator keeps the ABI; renumbering one breaks it. */
static const constant constants[] = {
    CONSTANT(PORTA_MAX_RANK, 4),
    CONSTANT(PORTA_OK, 0),
    CONSTANT(PORTA_ERROR_INVALID_ARGUMENT, 1),
    CONSTANT(PORTA_ERROR_PARSE, 2),
    CONSTANT(PORTA_ERROR_INVALID_GRAPH, 3),
    CONSTANT(PORTA_ERROR_SHAPE, 4),
    CONSTANT(PORTA_ERROR_OUT_OF_MEMORY, 5),
    CONSTANT(PORTA_ERROR_IO, 6),
    CONSTANT(PORTA_ERROR_UNSUPPORTED, 7),
    CONSTANT(PORTA_ERROR_DEVICE, 8),
    CONSTANT(PORTA_ERROR_NOT_FOUND, 9),
    CONSTANT(PORTA_ERROR_INTERNAL, 10),
    CONSTANT(PORTA_F32, 0),
    CONSTANT(PORTA_F16, 1),
    CONSTANT(PORTA_I32, 2),
    CONSTANT(PORTA_ATTR_INT, 0),
    CONSTANT(PORTA_ATTR_FLOAT, 1),
    CONSTANT(PORTA_ATTR_BOOL, 2),
    CONSTANT(PORTA_ATTR_STRING, 3),
    CONSTANT(PORTA_ATTR_INTS, 4),
    CONSTANT(PORTA_TENSOR_INPUT, 0),
    CONSTANT(PORTA_TENSOR_WEIGHT, 1),
    CONSTANT(PORTA_TENSOR_NODE, 2),
    CONSTANT(PORTA_DEVICE_OTHER, 0),
    CONSTANT(PORTA_DEVICE_INTEGRATED_GPU, 1),
    CONSTANT(PORTA_DEVICE_DISCRETE_GPU, 2),
    CONSTANT(PORTA_DEVICE_VIRTUAL_GPU, 3),
    CONSTANT(PORTA_DEVICE_CPU, 4),
    CONSTANT(PORTA_PROGRAM_PROFILE, 1),
    CONSTANT(PORTA_LOG_OFF, 0),
    CONSTANT(PORTA_LOG_ERROR, 1),
    CONSTANT(PORTA_LOG_WARNING, 2),
    CONSTANT(PORTA_LOG_INFO, 3),
    CONSTANT(PORTA_LOG_DEBUG, 4),
};

static int recorded(const char *type)
{
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++)
        if (!layouts[k].field && strcmp(layouts[k].type, type) == 0) return 1;
    return 0;
}

/* Every `typedef struct porta_NAME {` of the header (a struct with a body, not an opaque
 * handle) must have a size row above. Returns the number missing, or -1 if unreadable. */
static int unrecorded_structs(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    char line[512];
    int missing = 0, found = 0;
    while (fgets(line, sizeof line, file)) {
        char name[128];
        char brace = 0;
        if (sscanf(line, " typedef struct %127[A-Za-z0-9_] %c", name, &brace) == 2 &&
            brace == '{') {
            found++;
            if (!recorded(name)) {
                printf("%s: a public struct whose layout is not recorded here\n", name);
                missing++;
            }
        }
    }
    fclose(file);
    if (found == 0) {
        printf("%s: no struct with a body found\n", path);
        return -1;
    }
    return missing;
}

int main(int argc, char **argv)
{
    if (sizeof(void *) != 8 || sizeof(long) != 8 || sizeof(int) != 4) {
        printf("not LP64: the recorded layouts do not apply\n");
        return 77;
    }
    int failed = 0;
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++) {
        const layout *row = &layouts[k];
        if (!row->field && row->actual_size != row->size) {
            printf("sizeof(%s) is %zu, recorded %zu\n", row->type, row->actual_size, row->size);
            failed = 1;
        } else if (row->field &&
                   (row->actual_offset != row->offset || row->actual_size != row->size)) {
            printf("%s.%s is at offset %zu, %zu bytes; recorded offset %zu, %zu bytes\n",
                   row->type, row->field, row->actual_offset, row->actual_size, row->offset,
                   row->size);
            failed = 1;
        }
    }
    for (size_t k = 0; k < sizeof constants / sizeof constants[0]; k++) {
        if (constants[k].actual != constants[k].value) {
            printf("%s is %lld, recorded %lld\n", constants[k].name, constants[k].actual,
                   constants[k].value);
            failed = 1;
        }
    }
    if (argc != 2) {
        printf("usage: test_abi PORTA_H\n");
        return 1;
    }
    int missing = unrecorded_structs(argv[1]);
    if (missing != 0) failed = 1;
    if (missing < 0) printf("%s: cannot read the header's structs\n", argv[1]);
    if (!failed)
        printf("%zu layout rows and %zu constants as recorded\n",
               sizeof layouts / sizeof layouts[0], sizeof constants / sizeof constants[0]);
    return failed;
}
