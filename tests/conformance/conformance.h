/* Op conformance: every case runs on every device found and on the CPU reference (double
 * precision); each output must be within its op's tolerance (tolerances.c, one row per op).
 * Cases live in one file per op family (cases_*.c), each a list ending with {NULL}. */
#ifndef PORTA_CONFORMANCE_H
#define PORTA_CONFORMANCE_H

#include "porta.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct conformance_case {
    const char *op;        /* the op under test: its tolerance row and the per-device list */
    const char *graph;     /* .pg text; `graph NAME` names the case in messages */
    /* Optional: replaces the seed fill of some inputs or weights (large magnitudes, -inf, masks,
     * out-of-range ids); returns false to keep the seed's values for `tensor`. Values must be
     * representable in the tensor's dtype. */
    bool (*fill)(const char *tensor, double *data, int64_t count);
} conformance_case;

/* |device - reference| <= abs + rel * |reference|, element by element; NaN never passes. */
typedef struct conformance_tolerance {
    const char *op;
    double abs, rel;
} conformance_tolerance;

const conformance_tolerance *conformance_tolerance_of(const char *op);

/* The PORTA_VARIANTS strings case `name` (its graph's name) of `op` runs under, ending with NULL
 * (variants.c); NULL when it runs once with the rules' own choices. */
const char *const *conformance_variants_of(const char *op, const char *name);
/* A case name the variant table lists that `has_case` does not know, or NULL: a misspelt name
 * would otherwise silently run with the rules' choices only. */
const char *conformance_variants_missing(bool (*has_case)(const char *op, const char *name));

extern const conformance_case conformance_cases_elementwise[];
extern const conformance_case conformance_cases_shape[];
extern const conformance_case conformance_cases_matmul[];
extern const conformance_case conformance_cases_norm[];
extern const conformance_case conformance_cases_attention[];
extern const conformance_case conformance_cases_reduce[];
extern const conformance_case conformance_cases_attention_fused[];
/* Cases of fused patterns (graphs/lower/fuse.h), each run with fusion on and off. */
extern const conformance_case conformance_cases_matmul_fused[];
extern const conformance_case conformance_cases_norm_fused[];
/* 8-bit weights; the fused list also runs with fusion off */
extern const conformance_case conformance_cases_quantized[];
extern const conformance_case conformance_cases_quantized_fused[];

#endif
