/* The memory planner: in-place merges, arena placement by liveness (greedy best fit, as
 * ggml-alloc and TFLite's arena planner do) into arenas each within the binding range, the
 * resolution of stores to plan buffers, and dependencies from overlapping byte ranges. */
#include "graphs/lower/stores.h"

#include <stdlib.h>

/* Follows in-place merges to the store whose bytes a store uses. */
static int root_of(const porta_lower *lower, int s)
{
    while (lower->stores[s].merged_into >= 0) s = lower->stores[s].merged_into;
    return s;
}

void porta_lower_merge_in_place(porta_lower *lower)
{
    for (int i = 0; i < lower->n_steps; i++) {
        pending_step *p = &lower->steps[i];
        if (p->in_place_in < 0 || p->in_place_out < 0) continue;
        porta_plan_ref in = p->step.bindings[p->in_place_in];
        porta_plan_ref out = p->step.bindings[p->in_place_out];
        int in_root = root_of(lower, in.buffer);
        store *si = &lower->stores[in_root], *so = &lower->stores[out.buffer];
        if (!si->arena || !so->arena || so->merged_into >= 0 || in_root == out.buffer) continue;
        /* the whole of both stores, the input dying here and the output born here */
        if (in.offset != 0 || in.bytes != si->bytes || out.offset != 0 ||
            out.bytes != so->bytes || si->bytes != so->bytes)
            continue;
        if (si->last != i || so->first != i) continue;
        so->merged_into = in_root;
        si->last = so->last;
        lower->plan->n_in_place++;
    }
}

typedef struct free_block {
    int arena;                  /* index into the arenas' tops */
    uint64_t offset, bytes;
} free_block;

/* Greedy best fit in step order: a store is placed at its first step and its space freed after
 * its last, so the stores a step binds never overlap unless merged in place. Each arena is one
 * plan buffer of at most max_buffer_bytes (the most one binding can reach); when no arena has
 * room for a store another is opened, so a store never straddles two. */
porta_status porta_lower_place_arenas(porta_lower *lower)
{
    uint64_t align = lower->limits.buffer_alignment;
    uint64_t limit = lower->limits.max_buffer_bytes;
    size_t n = (size_t)lower->n_stores + 1;
    free_block *blocks = malloc(n * sizeof *blocks);
    int *order = malloc(n * sizeof *order);
    uint64_t *tops = calloc(n, sizeof *tops);
    if (!blocks || !order || !tops) {
        free(blocks);
        free(order);
        free(tops);
        return porta_error(lower->graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    int n_blocks = 0, n_arenas = 1;
    uint64_t sum = 0;
    int n_order = 0;
    for (int s = 0; s < lower->n_stores; s++)
        if (lower->stores[s].arena && lower->stores[s].merged_into < 0 &&
            lower->stores[s].first >= 0)
            order[n_order++] = s;
    /* stores are created in step order, so `order` is sorted by first step already, except
     * scratch made before the result; sort by first step to be sure */
    for (int a = 1; a < n_order; a++)
        for (int b = a; b > 0 && lower->stores[order[b]].first < lower->stores[order[b - 1]].first;
             b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    /* every arena allocation a step binds, those written in place included */
    for (int k = 0; k < lower->n_stores; k++)
        if (lower->stores[k].arena && lower->stores[k].first >= 0)
            sum += (lower->stores[k].bytes + align - 1) / align * align;
    int next = 0;
    for (int step = 0; step < lower->n_steps; step++) {
        for (; next < n_order && lower->stores[order[next]].first == step; next++) {
            store *s = &lower->stores[order[next]];
            uint64_t need = (s->bytes + align - 1) / align * align;
            int best = -1;
            for (int b = 0; b < n_blocks; b++)
                if (blocks[b].bytes >= need && (best < 0 || blocks[b].bytes < blocks[best].bytes))
                    best = b;
            if (best >= 0) {
                s->arena_buffer = blocks[best].arena;
                s->offset = blocks[best].offset;
                blocks[best].offset += need;
                blocks[best].bytes -= need;
                if (!blocks[best].bytes) blocks[best] = blocks[--n_blocks];
                continue;
            }
            /* grow the first arena with room, reusing a free block that ends at its top; past
             * the limit only the store's own bytes must fit, not its alignment padding */
            int arena = -1, tail = -1;
            for (int a = 0; a < n_arenas && arena < 0; a++) {
                tail = -1;
                for (int b = 0; b < n_blocks; b++)
                    if (blocks[b].arena == a && blocks[b].offset + blocks[b].bytes == tops[a])
                        tail = b;
                uint64_t at = tail >= 0 ? blocks[tail].offset : tops[a];
                if (at + s->bytes <= limit) arena = a;
            }
            if (arena < 0) {
                arena = n_arenas++;
                tail = -1;
            }
            s->arena_buffer = arena;
            if (tail >= 0) {
                s->offset = blocks[tail].offset;
                blocks[tail] = blocks[--n_blocks];
            } else {
                s->offset = tops[arena];
            }
            tops[arena] = s->offset + need;
        }
        for (int k = 0; k < n_order; k++) {
            store *s = &lower->stores[order[k]];
            if (s->last != step) continue;
            uint64_t bytes = (s->bytes + align - 1) / align * align;
            free_block freed = {s->arena_buffer, s->offset, bytes};
            /* coalesce with neighbours in the same arena */
            for (int b = 0; b < n_blocks;) {
                if (blocks[b].arena != freed.arena) {
                    b++;
                } else if (blocks[b].offset + blocks[b].bytes == freed.offset) {
                    freed.offset = blocks[b].offset;
                    freed.bytes += blocks[b].bytes;
                    blocks[b] = blocks[--n_blocks];
                } else if (freed.offset + freed.bytes == blocks[b].offset) {
                    freed.bytes += blocks[b].bytes;
                    blocks[b] = blocks[--n_blocks];
                } else {
                    b++;
                }
            }
            blocks[n_blocks++] = freed;
        }
    }
    free(blocks);
    free(order);
    /* arena 0 is buffer 0; the others follow the tensors' own buffers */
    porta_plan *plan = lower->plan;
    porta_plan_buffer *grown =
        realloc(plan->buffers, ((size_t)plan->n_buffers + (size_t)n_arenas) * sizeof *grown);
    if (!grown) {
        free(tops);
        return porta_error(lower->graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    plan->buffers = grown;
    int first_extra = plan->n_buffers;
    plan->arena_peak = 0;
    for (int a = 0; a < n_arenas; a++) {
        uint64_t bytes = tops[a] < limit ? tops[a] : limit;
        int buffer = a ? plan->n_buffers++ : 0;
        plan->buffers[buffer] = (porta_plan_buffer){PORTA_PLAN_ARENA, -1, bytes ? bytes : align};
        plan->arena_peak += bytes;
    }
    plan->n_arenas = n_arenas;
    for (int k = 0; k < lower->n_stores; k++)
        if (lower->stores[k].arena && lower->stores[k].arena_buffer)
            lower->stores[k].arena_buffer += first_extra - 1;
    plan->intermediates_bytes = sum;
    free(tops);
    return PORTA_OK;
}

porta_plan_ref porta_lower_resolve(const porta_lower *lower, porta_plan_ref ref)
{
    int root = root_of(lower, ref.buffer);
    const store *s = &lower->stores[root];
    if (s->arena) return (porta_plan_ref){s->arena_buffer, s->offset + ref.offset, ref.bytes};
    return (porta_plan_ref){s->buffer, ref.offset, ref.bytes};
}

static bool overlaps(porta_plan_ref a, porta_plan_ref b)
{
    return a.buffer == b.buffer && a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

void porta_lower_find_deps(porta_plan *plan)
{
    for (int i = 0; i < plan->n_steps; i++) {
        porta_plan_step *step = &plan->steps[i];
        for (int j = i - 1; j >= 0 && step->n_deps < PORTA_PLAN_MAX_DEPS; j--) {
            const porta_plan_step *earlier = &plan->steps[j];
            bool hazard = false;
            for (int a = 0; a < step->n_bindings && !hazard; a++)
                for (int b = 0; b < earlier->n_bindings && !hazard; b++) {
                    bool writes_a = (step->kernel->writes >> a) & 1;
                    bool writes_b = (earlier->kernel->writes >> b) & 1;
                    if ((writes_a || writes_b) && overlaps(step->bindings[a], earlier->bindings[b]))
                        hazard = true;
                }
            if (hazard) step->deps[step->n_deps++] = j;
        }
    }
}
