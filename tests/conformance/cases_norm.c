/* Conformance cases: the norm family (placeholder until its kernels land). */
#include "conformance.h"

const conformance_case conformance_cases_norm[] = {
    {NULL, NULL, NULL},
};
