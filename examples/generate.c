/* An application's generation loop: load the two graphs `porta import` writes for a decoder,
 * open its weights and a device, and generate greedily (greedy.c) with the KV cache on the
 * device. Public API only; build it against an installed porta with
 *   cc generate.c greedy.c $(pkg-config --cflags --libs porta) -lm
 * usage: generate PREFILL.pg DECODE.pg WEIGHTS PROMPT_IDS MAX_NEW [DEVICE]
 *   WEIGHTS: the checkpoint's folder, index file or safetensors file; PROMPT_IDS: 1,2,3 */
#include "greedy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: %s PREFILL.pg DECODE.pg WEIGHTS PROMPT_IDS MAX_NEW [DEVICE]\n",
                argv[0]);
        return 2;
    }
    int32_t prompt[1024];
    int n_prompt = 0;
    for (char *at = argv[4]; *at && n_prompt < 1024;) {
        prompt[n_prompt++] = (int32_t)strtol(at, &at, 10);
        if (*at == ',') at++;
        else if (*at) {
            fprintf(stderr, "%s: PROMPT_IDS '%s' is not a list like 1,2,3\n", argv[0], argv[4]);
            return 2;
        }
    }
    int max_new = atoi(argv[5]);
    if (max_new < 1 || max_new > 1 << 16) {
        fprintf(stderr, "%s: MAX_NEW '%s' is not a count\n", argv[0], argv[5]);
        return 2;
    }
    porta_context *context = NULL;
    porta_graph *prefill = NULL, *decode = NULL;
    porta_weights *weights = NULL;
    porta_device *device = NULL;
    int32_t *out = malloc((size_t)max_new * sizeof *out);
    int rc = 1;
    if (!out || porta_context_create(&context) != PORTA_OK) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
    } else if (porta_graph_load(context, argv[1], &prefill) != PORTA_OK ||
               porta_graph_load(context, argv[2], &decode) != PORTA_OK ||
               porta_weights_open(context, argv[3], &weights) != PORTA_OK ||
               porta_device_open(context, argc == 7 ? argv[6] : "auto", &device) != PORTA_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], porta_last_error(context));
    } else {
        char message[1024];
        int count = 0;
        greedy_timing timing;
        if (greedy_generate(context, device, prefill, decode, weights, prompt, n_prompt, max_new,
                            -1, out, &count, &timing, message, sizeof message) != PORTA_OK) {
            fprintf(stderr, "%s: %s\n", argv[0], message);
        } else {
            for (int i = 0; i < count; i++) printf("%s%d", i ? "," : "", out[i]);
            printf("\n%.1f tokens/s\n", timing.decode_steps / (timing.decode_ms * 1e-3));
            rc = 0;
        }
    }
    porta_device_close(device);
    porta_weights_close(weights);
    porta_graph_destroy(prefill);
    porta_graph_destroy(decode);
    porta_context_destroy(context);
    free(out);
    return rc;
}
