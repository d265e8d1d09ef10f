/* Conformance cases: the elementwise family (placeholder until its kernels land). */
#include "conformance.h"

const conformance_case conformance_cases_elementwise[] = {
    {NULL, NULL, NULL},
};
