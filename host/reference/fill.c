/* The seed fill: values that depend only on (seed, tensor name), so a graph runs without data and
 * every device sees the same numbers. A splitmix64 stream is seeded from the seed and a 64-bit
 * FNV-1a hash of the name; the rules are in reference.h and docs/cli.md. */
#include "host/reference/internal.h"

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1p-53;
}

void porta_reference_fill(const porta_graph *graph, porta_tensor_id tensor, uint64_t seed,
                          double *data)
{
    const porta_tensor *t = &graph->tensors[tensor];
    uint64_t mixed = seed;
    uint64_t state = fnv1a(t->name) ^ splitmix64(&mixed);
    int64_t count = porta_ref_elements(&t->shape);
    double lo = -1.0, width = 2.0;
    if (t->kind == PORTA_TENSOR_WEIGHT && t->shape.rank >= 2) {
        int64_t fan_in = 1;
        for (int i = 1; i < t->shape.rank; i++) fan_in *= t->shape.dims[i];
        double s = 1.0 / sqrt((double)fan_in);
        lo = -s;
        width = 2.0 * s;
    } else if (t->kind == PORTA_TENSOR_WEIGHT) {
        lo = 0.5;
        width = 1.0;
    }
    for (int64_t i = 0; i < count; i++) {
        double u = uniform(&state);
        data[i] = t->dtype == PORTA_I32 ? floor(8.0 * u) : lo + width * u;
    }
    porta_reference_round(t->dtype, data, count);
}
