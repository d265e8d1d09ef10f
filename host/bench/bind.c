/* `porta bench bind` on one device: what a new sequence length costs. One program of a BERT-base
 * sized encoder layer whose length is a named dim (S <= 128) is bound to lengths it has not seen
 * and to lengths it has, against making a new program for each length (what a graph of fixed
 * shapes needs), which compiles or loads its kernels again. */
#include "host/bench/bench.h"
#include "host/stats.h"
#include "runtime/program_internal.h"

#include <stdio.h>
#include <string.h>

/* The encoder layer of graphs/examples/encoder_layer.pg with its length `dim`. */
static void encoder_text(char *out, size_t size, const char *dim, const char *again)
{
    snprintf(out, size,
             "graph encoder_layer\n"
             "input x : f32[1, %s, 384]\ninput keep : i32[1, 1, 1, %s]\n"
             "weight wq : f32[384, 384]\nweight bq : f32[384]\nweight wk : f32[384, 384]\n"
             "weight bk : f32[384]\nweight wv : f32[384, 384]\nweight bv : f32[384]\n"
             "weight wo : f32[384, 384]\nweight bo : f32[384]\nweight g1 : f32[384]\n"
             "weight b1 : f32[384]\nweight w1 : f32[1536, 384]\nweight c1 : f32[1536]\n"
             "weight w2 : f32[384, 1536]\nweight c2 : f32[384]\nweight g2 : f32[384]\n"
             "weight b2 : f32[384]\n"
             "q = linear(x, wq, bq)\nk = linear(x, wk, bk)\nv = linear(x, wv, bv)\n"
             "a = attention(q, k, v, mask=keep, heads=12)\n"
             "h = layernorm(add(x, linear(a, wo, bo)), g1, b1, eps=1e-12)\n"
             "f = linear(gelu(linear(h, w1, c1)), w2, c2)\n"
             "y = layernorm(add(h, f), g2, b2, eps=1e-12)\noutput y\n", dim, again);
}

static porta_status parse(porta_context *context, const char *text, porta_graph **out)
{
    porta_status s = porta_graph_parse(context, text, strlen(text), "bench-bind.pg", out);
    return s == PORTA_OK ? porta_graph_validate(*out) : s;
}

static porta_status bind_to(porta_program *program, int64_t length, double *out_ms)
{
    const char *names[] = {"S"};
    double start = host_now_ms();
    porta_status s = porta_program_bind(program, names, &length, 1);
    *out_ms = host_now_ms() - start;
    return s;
}

porta_status bench_bind(porta_device *device, int reps, bench_bind_result *out)
{
    memset(out, 0, sizeof *out);
    if (reps > 8) reps = 8;
    if (reps < 1) reps = 1;
    porta_context *context = device->context;
    static const int64_t lengths[] = {96, 64, 33, 17, 120, 7, 80, 50};
    char text[2048];
    encoder_text(text, sizeof text, "S <= 128", "S");
    porta_graph *graph = NULL;
    porta_program *program = NULL;
    porta_status s = parse(context, text, &graph);
    double start = host_now_ms();
    if (s == PORTA_OK) s = porta_program_create(device, graph, 0, &program);
    out->create_ms = host_now_ms() - start;
    if (s == PORTA_OK) {
        for (int p = 0; p < program->plan->n_buffers; p++)
            if (program->plan->buffers[p].kind == PORTA_PLAN_WEIGHT)
                out->weight_bytes += program->plan->buffers[p].bytes;
        out->kernels_at_max = program->n_kernels;
    }
    /* each length new, then each again, a run between binds as an app would */
    for (int r = 0; r < reps && s == PORTA_OK; r++) {
        s = bind_to(program, lengths[r], &out->new_ms[r]);
        if (s == PORTA_OK) s = porta_program_run(program);
    }
    for (int r = 0; r < reps && s == PORTA_OK; r++) {
        s = bind_to(program, lengths[r], &out->seen_ms[r]);
        if (s == PORTA_OK) s = porta_program_run(program);
    }
    if (s == PORTA_OK) out->kernels_after = program->n_kernels;
    porta_program_destroy(program);
    porta_graph_destroy(graph);
    /* the fixed-shape way: a program per length */
    for (int r = 0; r < reps && s == PORTA_OK; r++) {
        char dim[16];
        snprintf(dim, sizeof dim, "%lld", (long long)lengths[r]);
        encoder_text(text, sizeof text, dim, dim);
        porta_graph *fixed = NULL;
        porta_program *each = NULL;
        s = parse(context, text, &fixed);
        start = host_now_ms();
        if (s == PORTA_OK) s = porta_program_create(device, fixed, 0, &each);
        out->program_ms[r] = host_now_ms() - start;
        porta_program_destroy(each);
        porta_graph_destroy(fixed);
    }
    out->reps = s == PORTA_OK ? reps : 0;
    return s;
}
