/* libFuzzer target for the .pg parser and printer: any input either fails with a message that
 * names a position, or parses to a graph whose printed form parses back to the same text. */
#include "porta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    porta_context *context = NULL;
    if (porta_context_create(&context) != PORTA_OK) return 0;
    porta_graph *graph = NULL;
    if (porta_graph_parse(context, (const char *)data, size, "fuzz.pg", &graph) != PORTA_OK) {
        /* Every failure names a position: "fuzz.pg:LINE:COL: ..." or the graph. */
        const char *message = porta_last_error(context);
        if (strncmp(message, "fuzz.pg:", 8) != 0 && strncmp(message, "graph '", 7) != 0) {
            fprintf(stderr, "message without a position: %s\n", message);
            abort();
        }
    } else {
        char *text = NULL, *again = NULL;
        porta_graph *reparsed = NULL;
        if (porta_graph_print(graph, &text) != PORTA_OK ||
            porta_graph_parse(context, text, strlen(text), "printed.pg", &reparsed) != PORTA_OK ||
            porta_graph_print(reparsed, &again) != PORTA_OK || strcmp(text, again) != 0) {
            fprintf(stderr, "round trip failed: %s\n", porta_last_error(context));
            abort();
        }
        porta_free(text);
        porta_free(again);
        porta_graph_destroy(reparsed);
    }
    porta_graph_destroy(graph);
    porta_context_destroy(context);
    return 0;
}
