/* Binding operands and attributes to a node, checked against the op table. */
#include "graphs/graph.h"
#include "graphs/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(porta_attr_kind kind)
{
    switch (kind) {
    case PORTA_ATTR_INT: return "an integer";
    case PORTA_ATTR_FLOAT: return "a number";
    case PORTA_ATTR_BOOL: return "true or false";
    case PORTA_ATTR_STRING: return "a string";
    case PORTA_ATTR_INTS: return "a list of integers";
    }
    return "?";
}

void porta_op_signature(int op, char *out, size_t size)
{
    const porta_op_info *info = porta_op_get(op);
    porta_strbuf text = {0};
    porta_strbuf_append(&text, "%s(%s", info->name, "");
    porta_operand_spec specs[PORTA_MAX_OPERANDS];
    int n = porta_op_operands(info, specs);
    for (int i = 0; i < n; i++)
        porta_strbuf_append(&text, "%s%s%s", i ? ", " : "", specs[i].name,
                            specs[i].variadic ? "..." : specs[i].optional ? "?" : "");
    for (int i = 0; i < info->n_attrs; i++) {
        const porta_attr_spec *spec = &info->attrs[i];
        porta_strbuf_append(&text, "%s%s", i ? ", " : "; ", spec->name);
        if (spec->required) continue;
        switch (spec->kind) {
        case PORTA_ATTR_INT: porta_strbuf_append(&text, "=%lld", (long long)spec->def); break;
        case PORTA_ATTR_FLOAT: porta_strbuf_append(&text, "=%g", spec->def); break;
        case PORTA_ATTR_BOOL: porta_strbuf_append(&text, "=%s", spec->def ? "true" : "false"); break;
        case PORTA_ATTR_STRING: porta_strbuf_append(&text, "=\"%s\"", spec->def_s); break;
        case PORTA_ATTR_INTS: break;
        }
    }
    porta_strbuf_append(&text, ")");
    snprintf(out, size, "%s", text.data && !text.failed ? text.data : info->name);
    porta_strbuf_free(&text);
}

static porta_status node_error(porta_graph *graph, porta_srcpos pos, const porta_node *node,
                               porta_status status, const char *message, const char *detail)
{
    char signature[256];
    porta_op_signature(node->op, signature, sizeof signature);
    return porta_graph_error_at(graph, pos.line ? pos : node->pos, status,
                                "node '%s' (%s): %s%s; expected %s",
                                graph->tensors[node->output].name, porta_op_get(node->op)->name,
                                message, detail ? detail : "", signature);
}

porta_status porta_node_set_operand(porta_graph *graph, porta_node *node, int position,
                                    const char *name, porta_tensor_id tensor, porta_srcpos pos)
{
    const porta_op_info *info = porta_op_get(node->op);
    porta_operand_spec specs[PORTA_MAX_OPERANDS];
    int n = porta_op_operands(info, specs);
    int slot = -1;
    char detail[320];
    if (position >= 0) {
        if (n > 0 && specs[0].variadic) {
            slot = node->n_operands;
            if (slot >= PORTA_MAX_OPERANDS) {
                snprintf(detail, sizeof detail, " (at most %d)", PORTA_MAX_OPERANDS);
                return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "too many operands",
                                  detail);
            }
        } else if (position >= n) {
            snprintf(detail, sizeof detail, " (%d given, at most %d)", position + 1, n);
            return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "too many operands",
                              detail);
        } else {
            slot = position;
        }
    } else {
        for (int i = 0; i < n && name; i++)
            if (!specs[i].variadic && !strcmp(specs[i].name, name)) slot = i;
        if (slot < 0) {
            snprintf(detail, sizeof detail, " '%s'", name ? name : "(null)");
            return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH,
                              "no operand or attribute named", detail);
        }
    }
    if (node->operands[slot] >= 0) {
        snprintf(detail, sizeof detail, " '%s'", specs[slot < n ? slot : 0].name);
        return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "operand given twice:", detail);
    }
    node->operands[slot] = tensor;
    node->operand_pos[slot] = pos;
    if (slot + 1 > node->n_operands) node->n_operands = slot + 1;
    return PORTA_OK;
}

static bool in_choices(const char *choices, const char *value)
{
    size_t length = strlen(value);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == length && !strncmp(p, value, n)) return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

porta_status porta_node_set_attr(porta_graph *graph, porta_node *node, const porta_attr *attr,
                                 porta_srcpos pos)
{
    const porta_op_info *info = porta_op_get(node->op);
    char detail[256];
    int index = attr->name ? porta_op_attr_index(info, attr->name) : -1;
    if (index < 0) {
        snprintf(detail, sizeof detail, " '%s'", attr->name ? attr->name : "(null)");
        return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "unknown attribute", detail);
    }
    const porta_attr_spec *spec = &info->attrs[index];
    porta_attr_value *value = &node->attrs[index];
    if (value->set) {
        snprintf(detail, sizeof detail, " '%s'", spec->name);
        return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "attribute given twice:",
                          detail);
    }
    bool kind_ok = attr->kind == spec->kind ||
                   (spec->kind == PORTA_ATTR_FLOAT && attr->kind == PORTA_ATTR_INT);
    if (!kind_ok) {
        snprintf(detail, sizeof detail, " '%s' must be %s, not %s", spec->name,
                 kind_name(spec->kind), kind_name(attr->kind));
        return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "attribute", detail);
    }
    porta_attr_value v = {.set = true, .kind = spec->kind, .pos = pos};
    bool has_range = spec->min <= spec->max;
    switch (spec->kind) {
    case PORTA_ATTR_INT:
        v.i = attr->i;
        if (has_range && ((double)v.i < spec->min || (double)v.i > spec->max)) {
            snprintf(detail, sizeof detail, " '%s' is %lld; it must be in [%.0f, %.0f]", spec->name,
                     (long long)v.i, spec->min, spec->max);
            return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "attribute", detail);
        }
        break;
    case PORTA_ATTR_FLOAT:
        v.f = attr->kind == PORTA_ATTR_INT ? (double)attr->i : attr->f;
        if (!isfinite(v.f) || (has_range && (v.f < spec->min || v.f > spec->max))) {
            snprintf(detail, sizeof detail, " '%s' is %g; it must be finite%s", spec->name, v.f,
                     has_range ? " and in range" : "");
            if (has_range)
                snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " [%g, %g]",
                         spec->min, spec->max);
            return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "attribute", detail);
        }
        break;
    case PORTA_ATTR_BOOL:
        v.b = attr->b;
        break;
    case PORTA_ATTR_STRING:
        if (!attr->s || !in_choices(spec->choices, attr->s)) {
            snprintf(detail, sizeof detail, " '%s' is \"%s\"; it must be one of %s", spec->name,
                     attr->s ? attr->s : "(null)", spec->choices);
            return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "attribute", detail);
        }
        if (!(v.s = porta_strdup(attr->s)))
            return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        break;
    case PORTA_ATTR_INTS:
        if (attr->n_ints < 0 || attr->n_ints > PORTA_MAX_RANK || (attr->n_ints && !attr->ints)) {
            snprintf(detail, sizeof detail, " '%s' has %d values; at most %d", spec->name,
                     attr->n_ints, PORTA_MAX_RANK);
            return node_error(graph, pos, node, PORTA_ERROR_INVALID_GRAPH, "attribute", detail);
        }
        v.n_ints = attr->n_ints;
        v.ints = malloc(sizeof(int64_t) * (size_t)(attr->n_ints ? attr->n_ints : 1));
        if (!v.ints) return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        if (attr->n_ints) memcpy(v.ints, attr->ints, sizeof(int64_t) * (size_t)attr->n_ints);
        break;
    }
    *value = v;
    return PORTA_OK;
}

porta_status porta_node_check_complete(porta_graph *graph, const porta_node *node)
{
    const porta_op_info *info = porta_op_get(node->op);
    porta_operand_spec specs[PORTA_MAX_OPERANDS];
    int n = porta_op_operands(info, specs);
    char detail[320];
    if (n > 0 && specs[0].variadic) {
        if (node->n_operands < 1)
            return node_error(graph, node->pos, node, PORTA_ERROR_INVALID_GRAPH,
                              "needs at least one operand", NULL);
    } else {
        for (int i = 0; i < n; i++)
            if (!specs[i].optional && node->operands[i] < 0) {
                snprintf(detail, sizeof detail, " '%s'", specs[i].name);
                return node_error(graph, node->pos, node, PORTA_ERROR_INVALID_GRAPH,
                                  "missing operand", detail);
            }
    }
    for (int i = 0; i < info->n_attrs; i++)
        if (info->attrs[i].required && !node->attrs[i].set) {
            snprintf(detail, sizeof detail, " '%s'", info->attrs[i].name);
            return node_error(graph, node->pos, node, PORTA_ERROR_INVALID_GRAPH,
                              "missing attribute", detail);
        }
    return PORTA_OK;
}

/* ---- reading attributes with defaults -------------------------------------------------------- */

static const porta_attr_value *lookup(const porta_graph *graph, const porta_node *node,
                                      const char *attr, const porta_attr_spec **out_spec)
{
    (void)graph;
    const porta_op_info *info = porta_op_get(node->op);
    int index = porta_op_attr_index(info, attr);
    *out_spec = index >= 0 ? &info->attrs[index] : NULL;
    return index >= 0 && node->attrs[index].set ? &node->attrs[index] : NULL;
}

int64_t porta_node_int(const porta_graph *graph, const porta_node *node, const char *attr)
{
    const porta_attr_spec *spec;
    const porta_attr_value *v = lookup(graph, node, attr, &spec);
    if (v && v->symbol) return graph->symbols[v->symbol - 1].value;   /* the bound value */
    return v ? v->i : spec ? (int64_t)spec->def : 0;
}

double porta_node_float(const porta_graph *graph, const porta_node *node, const char *attr)
{
    const porta_attr_spec *spec;
    const porta_attr_value *v = lookup(graph, node, attr, &spec);
    return v ? v->f : spec ? spec->def : 0.0;
}

bool porta_node_bool(const porta_graph *graph, const porta_node *node, const char *attr)
{
    const porta_attr_spec *spec;
    const porta_attr_value *v = lookup(graph, node, attr, &spec);
    return v ? v->b : spec ? spec->def != 0.0 : false;
}

const char *porta_node_string(const porta_graph *graph, const porta_node *node, const char *attr)
{
    const porta_attr_spec *spec;
    const porta_attr_value *v = lookup(graph, node, attr, &spec);
    return v ? v->s : spec ? spec->def_s : NULL;
}

const int64_t *porta_node_ints(const porta_graph *graph, const porta_node *node, const char *attr,
                               int *out_count)
{
    const porta_attr_spec *spec;
    const porta_attr_value *v = lookup(graph, node, attr, &spec);
    *out_count = v ? v->n_ints : 0;
    return v ? v->ints : NULL;
}

porta_tensor_id porta_node_operand(const porta_graph *graph, const porta_node *node,
                                   const char *operand)
{
    (void)graph;
    porta_operand_spec specs[PORTA_MAX_OPERANDS];
    int n = porta_op_operands(porta_op_get(node->op), specs);
    for (int i = 0; i < n; i++)
        if (!strcmp(specs[i].name, operand)) return node->operands[i];
    return -1;
}
