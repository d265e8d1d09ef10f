/* libFuzzer target for the .npy reader: the first bytes choose the tensor the file is read for
 * (dtype, rank, dims of 1..16), the rest is the file. Any input either fails with a message that
 * names the file, or decodes to values that encode and decode back to themselves. */
#include "porta.h"
#include "host/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const porta_dtype dtypes[] = {PORTA_F32, PORTA_F16, PORTA_I32};
    porta_dtype dtype = dtypes[data[0] % 3];
    porta_shape shape = {data[1] % (PORTA_MAX_RANK + 1), {0}};
    size_t used = 2;
    int64_t count = 1;
    for (int i = 0; i < shape.rank; i++, used++) {
        if (used >= size) return 0;
        shape.dims[i] = 1 + data[used] % 16;
        count *= shape.dims[i];
    }
    double *values = malloc((size_t)count * sizeof *values);
    double *again = malloc((size_t)count * sizeof *again);
    porta_context *context = NULL;
    if (!values || !again || porta_context_create(&context) != PORTA_OK) abort();

    if (porta_npy_decode(context, "fuzz.npy", data + used, size - used, "t", dtype, &shape,
                         values) != PORTA_OK) {
        if (!strstr(porta_last_error(context), "fuzz.npy")) {
            fprintf(stderr, "message without the file: %s\n", porta_last_error(context));
            abort();
        }
    } else {
        /* Decoded values are already rounded to the dtype, so a round trip keeps them. */
        char *encoded = NULL;
        size_t length = 0;
        if (porta_npy_encode(context, dtype, &shape, values, &encoded, &length) != PORTA_OK ||
            porta_npy_decode(context, "encoded.npy", encoded, length, "t", dtype, &shape,
                             again) != PORTA_OK) {
            fprintf(stderr, "round trip failed: %s\n", porta_last_error(context));
            abort();
        }
        for (int64_t i = 0; i < count; i++)
            if (memcmp(&values[i], &again[i], sizeof values[i]) != 0 &&
                !(values[i] != values[i] && again[i] != again[i])) {
                fprintf(stderr, "value %lld changed in a round trip: %.17g -> %.17g\n",
                        (long long)i, values[i], again[i]);
                abort();
            }
        free(encoded);
    }
    porta_context_destroy(context);
    free(values);
    free(again);
    return 0;
}
