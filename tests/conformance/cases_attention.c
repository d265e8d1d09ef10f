/* Conformance cases: the attention family (placeholder until its kernels land). */
#include "conformance.h"

const conformance_case conformance_cases_attention[] = {
    {NULL, NULL, NULL},
};
