/* Conformance cases: the matmul family (placeholder until its kernels land). */
#include "conformance.h"

const conformance_case conformance_cases_matmul[] = {
    {NULL, NULL, NULL},
};
