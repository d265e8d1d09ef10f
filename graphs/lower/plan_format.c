/* The plan as text, for `porta plan` and porta_program_describe. */
#include "graphs/lower/plan.h"
#include "graphs/ops.h"

#include <inttypes.h>

static const char *buffer_kind_name(porta_plan_buffer_kind kind)
{
    switch (kind) {
    case PORTA_PLAN_ARENA: return "arena";
    case PORTA_PLAN_INPUT: return "input";
    case PORTA_PLAN_WEIGHT: return "weight";
    case PORTA_PLAN_OUTPUT: return "output";
    }
    return "?";
}

static void format_bytes(porta_strbuf *out, uint64_t bytes)
{
    if (bytes >= 10u << 20)
        porta_strbuf_append(out, "%.1f MiB", (double)bytes / (1u << 20));
    else if (bytes >= 10u << 10)
        porta_strbuf_append(out, "%.1f KiB", (double)bytes / (1u << 10));
    else
        porta_strbuf_append(out, "%" PRIu64 " B", bytes);
}

/* The names of the tensors buffer b holds, joined by '+', padded to a column. */
static void format_tensors(porta_strbuf *out, const porta_plan *plan, int b)
{
    const porta_graph *graph = plan->graph;
    size_t start = out->length;
    int n = 0;
    for (porta_tensor_id t = 0; t < graph->n_tensors && plan->buffers[b].kind != PORTA_PLAN_ARENA;
         t++)
        if (plan->tensor_buffer_of[t] == b)
            porta_strbuf_append(out, "%s%s", n++ ? "+" : "", graph->tensors[t].name);
    size_t width = out->length - start;
    porta_strbuf_append(out, "%*s", width < 24 ? (int)(25 - width) : 1, "");
}

/* How the weights of buffer b are laid out: panels for the gemm, 8-bit values with scales, and
 * where each lies when the buffer holds several. */
static void format_packing(porta_strbuf *out, const porta_plan *plan, int b)
{
    const porta_graph *graph = plan->graph;
    int held = 0;
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++) held += plan->tensor_buffer_of[t] == b;
    if (plan->buffers[b].kind != PORTA_PLAN_WEIGHT) return;
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++) {
        if (plan->tensor_buffer_of[t] != b) continue;
        const porta_plan_packing *p = &plan->tensor_packing[t];
        if (!p->panel_cols && !p->quant_block && held < 2) continue;
        if (held > 1)
            porta_strbuf_append(out, "  %s at %" PRIu64 ":%s", graph->tensors[t].name,
                                plan->tensor_at[t].offset, p->panel_cols ? " packed" : "");
        else
            porta_strbuf_append(out, "  packed:");
        if (p->panel_cols)
            porta_strbuf_append(out, " %u x %u in panels of %u columns", p->k_rows, p->n_cols,
                                p->panel_cols);
        else if (!p->quant_block)
            porta_strbuf_append(out, " as it is");
        if (p->quant_block)         /* 8-bit (graphs/quantize.h) */
            porta_strbuf_append(out, "%s int8, a scale per %u of K %u", p->panel_cols ? "," : "",
                                p->quant_block, p->k_rows);
    }
}

void porta_plan_format(const porta_plan *plan, porta_strbuf *out)
{
    const porta_graph *graph = plan->graph;
    porta_strbuf_append(out, "plan %s: %d steps, %d views, %d in place, %d fused\n",
                        graph->name, plan->n_steps, plan->n_views, plan->n_in_place,
                        plan->n_fused);
    porta_strbuf_append(out, "buffers:\n");
    for (int b = 0; b < plan->n_buffers; b++) {
        const porta_plan_buffer *buffer = &plan->buffers[b];
        porta_strbuf_append(out, "  b%-3d %-6s ", b, buffer_kind_name(buffer->kind));
        format_tensors(out, plan, b);
        format_bytes(out, buffer->bytes);
        if (buffer->kind != PORTA_PLAN_ARENA && buffer->tensor >= 0) {
            const porta_tensor *held = &graph->tensors[buffer->tensor];
            porta_strbuf_append(out, "  %s", held->format ? porta_weight_format_name(held->format)
                                                          : porta_dtype_name(held->dtype));
        }
        format_packing(out, plan, b);
        porta_strbuf_append(out, "\n");
    }
    porta_strbuf_append(out, "steps:\n");
    for (int i = 0; i < plan->n_steps; i++) {
        const porta_plan_step *step = &plan->steps[i];
        const porta_node *node = &graph->nodes[step->node];
        porta_strbuf_append(out, "  %3d %-18s %-14s %s", i, step->kernel->name, step->op,
                            graph->tensors[node->output].name);
        porta_strbuf_append(out, "  grid %ux%ux%u local %ux%ux%u", step->groups[0],
                            step->groups[1], step->groups[2], step->config.local_size[0],
                            step->config.local_size[1], step->config.local_size[2]);
        if (step->config.n_constants) {
            porta_strbuf_append(out, " constants");
            for (int c = 0; c < step->config.n_constants; c++)
                porta_strbuf_append(out, "%s%d", c ? "," : " ", step->config.constants[c]);
        }
        porta_strbuf_append(out, "\n      bind");
        for (int b = 0; b < step->n_bindings; b++) {
            const porta_plan_ref *ref = &step->bindings[b];
            porta_strbuf_append(out, " %s b%d[%" PRIu64 "+%" PRIu64 "]",
                                (step->kernel->writes >> b) & 1 ? "w" : "r", ref->buffer,
                                ref->offset, ref->bytes);
            /* a data buffer holding 16-bit elements (kernels.h) */
            porta_storage_kind kind = PORTA_STORAGE_KIND_OF(step->config.kinds, b);
            if (kind != PORTA_STORAGE_WORD)
                porta_strbuf_append(out, ":%s", kind == PORTA_STORAGE_F16 ? "f16" : "bf16");
        }
        if (step->n_deps) {
            porta_strbuf_append(out, "  after");
            for (int d = 0; d < step->n_deps; d++)
                porta_strbuf_append(out, " %d", step->deps[d]);
        }
        porta_strbuf_append(out, "\n");
    }
    if (plan->n_choices) porta_strbuf_append(out, "variants:\n");
    static const char *const sources[] = {"rule", "tuned", "forced"};
    for (int i = 0; i < plan->n_choices; i++) {
        const porta_plan_choice *c = &plan->choices[i];
        porta_strbuf_append(out, "  %-10s %-28s %s (%s", c->family, c->key, c->names[c->variant],
                            sources[c->source]);
        if (c->variant != c->rule) porta_strbuf_append(out, "; the rule's: %s", c->names[c->rule]);
        porta_strbuf_append(out, ")\n");
    }
    porta_strbuf_append(out, "arena: peak ");
    format_bytes(out, plan->arena_peak);
    porta_strbuf_append(out, " of ");
    format_bytes(out, plan->intermediates_bytes);
    porta_strbuf_append(out, " in all intermediates");
    if (plan->intermediates_bytes)
        porta_strbuf_append(out, " (%.0f%%)",
                            100.0 * (double)plan->arena_peak / (double)plan->intermediates_bytes);
    porta_strbuf_append(out, "\n");
}
