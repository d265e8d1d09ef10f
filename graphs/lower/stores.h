/* What lowering keeps while rules run, shared by the driver (lower.c) and the memory planner
 * (memory.c); nothing outside graphs/lower/ sees it. */
#ifndef PORTA_LOWER_STORES_H
#define PORTA_LOWER_STORES_H

#include "graphs/lower/lower.h"

typedef struct store {
    bool arena;
    int buffer;                 /* own buffers: index in the plan's buffers */
    uint64_t bytes;
    int first, last;            /* steps binding it; first -1: never bound */
    int merged_into;            /* in-place: this store lives in another's bytes; -1: itself */
    uint64_t offset;            /* arena stores: assigned by the planner */
    int arena_buffer;           /* arena stores: the plan buffer it was placed in */
    porta_tensor_id tensor;     /* the tensor it holds; -1: a rule's scratch */
    int node;                   /* the node being lowered when it was made; -1: none */
} store;

typedef struct pending_step {
    porta_plan_step step;       /* bindings' buffer field holds a store index until placed */
    int in_place_in, in_place_out;
} pending_step;

struct porta_lower {
    const porta_graph *graph;
    porta_plan_limits limits;
    porta_plan *plan;
    store *stores;
    int n_stores, cap_stores;
    pending_step *steps;
    int n_steps, cap_steps;
    porta_lower_ref *tensor_at;    /* by tensor id; store -1 until placed */
    porta_fusion *fused;           /* by node */
    bool *is_view;
    bool failed_alloc;
    int current_choice;            /* the node's latest variant decision; -1: none yet */
    int current_node;              /* the node being lowered; -1: none */
};

/* In place: a step's output takes the bytes of an input store that dies there. */
void porta_lower_merge_in_place(porta_lower *lower);
/* Places every bound arena store; sets the plan's arenas, peak and intermediates. */
porta_status porta_lower_place_arenas(porta_lower *lower);
/* A store's range as a plan buffer's range. */
porta_plan_ref porta_lower_resolve(const porta_lower *lower, porta_plan_ref ref);
void porta_lower_find_deps(porta_plan *plan);

#endif
