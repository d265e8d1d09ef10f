/* causal_conv1d (docs/ops.md): each invocation of conv1d.k computes a TILE x TILE block of
 * (time step, output channel), one accumulating step per range of channels and taps that keeps
 * an invocation's loops under the loop budget (lower.h). */
#include "graphs/lower/lower.h"
#include "graphs/ops.h"

#define TILE 4u
#define MAX_GROUPS 65535u

typedef struct conv1d_params {
    uint32_t rows, steps, channels, outputs, taps, dilation, has_bias;
    uint32_t tap_begin, tap_end, channel_begin, channel_end, accumulate;
} conv1d_params;

static uint32_t div_up(uint32_t a, uint32_t b) { return a / b + (a % b != 0); }

porta_status porta_lower_conv1d(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_shape *xs = &graph->tensors[node->operands[0]].shape;
    const porta_shape *ws = &graph->tensors[node->operands[1]].shape;
    int64_t dilation = porta_node_int(graph, node, "dilation");
    porta_status status = porta_lower_check_elements(lower, node);
    if (status != PORTA_OK) return status;
    if ((ws->dims[2] - 1) * dilation > (int64_t)UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "a reach into the past of %lld time steps",
                                (long long)((ws->dims[2] - 1) * dilation));
    conv1d_params p = {
        .rows = (uint32_t)(xs->dims[0] * xs->dims[1]),
        .steps = (uint32_t)xs->dims[1],
        .channels = (uint32_t)xs->dims[2],
        .outputs = (uint32_t)ws->dims[0],
        .taps = (uint32_t)ws->dims[2],
        .dilation = (uint32_t)dilation,
        .has_bias = node->operands[2] >= 0,
    };
    porta_lower_step step = porta_lower_step_init(&porta_kernel_conv1d, 1, 1, 1);
    step.n_bindings = 4;
    step.bindings[0] = porta_lower_tensor(lower, node->operands[0]);
    step.bindings[1] = porta_lower_tensor(lower, node->operands[1]);
    step.bindings[2] = porta_lower_tensor(lower, node->operands[p.has_bias ? 2 : 1]);
    porta_lower_ref result = porta_lower_result(lower, node);
    porta_lower_tile_grid(lower, porta_lower_groups(p.outputs, TILE),
                          porta_lower_groups(p.rows, TILE), &step);
    if (step.groups[0] > MAX_GROUPS || step.groups[1] > MAX_GROUPS)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "%u time steps by %u outputs need more than %u work-groups a "
                                "dimension", p.rows, p.outputs, MAX_GROUPS);
    step.params = &p;
    step.param_bytes = sizeof p;
    /* One invocation loops taps * (channels + 1) times: ranges of channels and then of taps,
     * evenly sized, one accumulating step each, keep that under the loop budget. */
    uint32_t channel_steps = div_up(p.channels, PORTA_LOWER_LOOP_BUDGET - 1u);
    uint32_t per_channels = div_up(p.channels, channel_steps);
    uint32_t tap_steps = div_up(p.taps, PORTA_LOWER_LOOP_BUDGET / (per_channels + 1u));
    uint32_t per_taps = div_up(p.taps, tap_steps);
    porta_lower_ref sums = porta_lower_staging(lower, result, channel_steps * tap_steps > 1);
    step.bindings[3] = sums;
    bool bias = p.has_bias;
    for (uint32_t k0 = 0; k0 < p.taps; k0 += per_taps)
        for (uint32_t c0 = 0; c0 < p.channels; c0 += per_channels) {
            p.tap_begin = k0;
            p.tap_end = p.taps - k0 < per_taps ? p.taps : k0 + per_taps;
            p.channel_begin = c0;
            p.channel_end = p.channels - c0 < per_channels ? p.channels : c0 + per_channels;
            p.accumulate = k0 > 0 || c0 > 0;
            p.has_bias = bias && !p.accumulate;
            step.loop_iterations = (uint64_t)(p.tap_end - p.tap_begin) *
                                   (p.channel_end - p.channel_begin + 1u);
            porta_status status = porta_lower_emit(lower, node, &step);
            if (status != PORTA_OK) return status;
        }
    return porta_lower_emit_convert(lower, node, sums, result);
}
