/* Conformance cases: the shape family (placeholder until its kernels land). */
#include "conformance.h"

const conformance_case conformance_cases_shape[] = {
    {NULL, NULL, NULL},
};
