/* The .pg parser (docs/format.md): statements into the graph IR, then validation. Recursion is
 * bounded (calls nest at most PORTA_MAX_NESTING deep); every failure leaves a "file:line:col:"
 * message on the context and frees what was built. */
#include "graphs/graph.h"
#include "graphs/lexer.h"
#include "graphs/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PORTA_MAX_NESTING 64
#define MAX_LIST 64

typedef struct parser {
    porta_graph *graph;
    porta_lexer lexer;
    porta_token tok;       /* the current token */
    int depth;             /* calls being parsed */
} parser;

static porta_status next(parser *p)
{
    return porta_lexer_next(&p->lexer, &p->tok);
}

static bool is_ident(const porta_token *tok, const char *word)
{
    return tok->kind == PORTA_TOK_IDENT && tok->length == strlen(word) &&
           !memcmp(tok->text, word, tok->length);
}

static void token_copy(const porta_token *tok, char *out, size_t size)
{
    size_t n = tok->length < size - 1 ? tok->length : size - 1;
    memcpy(out, tok->text, n);
    out[n] = '\0';
}

static porta_status fail(parser *p, porta_srcpos pos, porta_status status, const char *format, ...)
    PORTA_PRINTF(4, 5);

static porta_status fail(parser *p, porta_srcpos pos, porta_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    porta_status result = porta_graph_error_at_v(p->graph, pos, status, format, args);
    va_end(args);
    return result;
}

/* "expected WHAT, found 'x'", or "unexpected end of file/line, expected WHAT". */
static porta_status expected(parser *p, const char *what)
{
    if (p->tok.kind == PORTA_TOK_EOF)
        return fail(p, p->tok.pos, PORTA_ERROR_PARSE, "unexpected end of file, expected %s", what);
    if (p->tok.kind == PORTA_TOK_NEWLINE)
        return fail(p, p->tok.pos, PORTA_ERROR_PARSE, "unexpected end of line, expected %s", what);
    char found[64];
    porta_token_describe(&p->tok, found, sizeof found);
    return fail(p, p->tok.pos, PORTA_ERROR_PARSE, "expected %s, found %s", what, found);
}

static porta_status expect(parser *p, porta_token_kind kind, const char *what)
{
    if (p->tok.kind != kind) return expected(p, what);
    return next(p);
}

static bool is_reserved(const char *name)
{
    return !strcmp(name, "true") || !strcmp(name, "false");
}

/* A tensor named by the text and not yet defined: a node result used before its statement. */
static bool is_placeholder(const porta_tensor *tensor)
{
    return tensor->kind == PORTA_TENSOR_NODE && tensor->node < 0;
}

/* The tensor a name refers to; a name not seen yet becomes a placeholder that a later statement
 * defines (or that is reported as undefined at this position). */
static porta_status reference(parser *p, const porta_token *tok, porta_tensor_id *out)
{
    char name[PORTA_MAX_IDENTIFIER + 1];
    token_copy(tok, name, sizeof name);
    if (is_reserved(name))
        return fail(p, tok->pos, PORTA_ERROR_PARSE, "'%s' is a value, not a tensor name", name);
    *out = porta_graph_find_tensor(p->graph, name);
    if (*out >= 0) return PORTA_OK;
    return porta_graph_new_tensor(p->graph, name, PORTA_TENSOR_NODE, tok->pos, out);
}

/* Declares the name at `tok` (an input, a weight or a node result). */
static porta_status define(parser *p, const porta_token *tok, porta_tensor_kind kind,
                           porta_tensor_id *out)
{
    char name[PORTA_MAX_IDENTIFIER + 1];
    token_copy(tok, name, sizeof name);
    if (is_reserved(name))
        return fail(p, tok->pos, PORTA_ERROR_PARSE, "'%s' is reserved and cannot name a tensor",
                    name);
    porta_tensor_id id = porta_graph_find_tensor(p->graph, name);
    if (id < 0) return porta_graph_new_tensor(p->graph, name, kind, tok->pos, out);
    porta_tensor *tensor = &p->graph->tensors[id];
    if (!is_placeholder(tensor))
        return fail(p, tok->pos, PORTA_ERROR_INVALID_GRAPH,
                    "duplicate name '%s' (first defined at line %d)", name, tensor->pos.line);
    tensor->kind = kind;
    tensor->pos = tok->pos;
    *out = id;
    return PORTA_OK;
}

/* ---- declarations ----------------------------------------------------------------------------- */

/* A named dim: `S <= 128` declares S (or repeats its declaration), `S` alone uses one declared
 * earlier. Only inputs have them; their dims start at the maxima. */
static porta_status parse_symbol(parser *p, porta_tensor_kind kind, int *out_symbol,
                                 int64_t *out_dim)
{
    porta_token name = p->tok;
    char text[PORTA_MAX_IDENTIFIER + 1];
    snprintf(text, sizeof text, "%.*s", (int)name.length, name.text);
    if (kind != PORTA_TENSOR_INPUT)
        return fail(p, name.pos, PORTA_ERROR_SHAPE,
                    "dim '%s': only inputs have dims known at run time; a weight's are fixed", text);
    porta_status status = next(p);
    if (status) return status;
    int index = -1;
    if (p->tok.kind == PORTA_TOK_AT_MOST) {
        if ((status = next(p))) return status;
        if (p->tok.kind != PORTA_TOK_INT) return expected(p, "the dim's maximum after '<='");
        status = porta_graph_declare_symbol(p->graph, text, p->tok.i, name.pos, &index);
        if (!status) status = next(p);
        if (status) return status;
    } else {
        for (int i = 0; i < p->graph->n_symbols && index < 0; i++)
            if (!strcmp(p->graph->symbols[i].name, text)) index = i;
        if (index < 0)
            return fail(p, name.pos, PORTA_ERROR_SHAPE,
                        "dim '%s' has no maximum; declare it once as '%s <= N'", text, text);
    }
    *out_symbol = index + 1;
    *out_dim = p->graph->symbols[index].value;
    return PORTA_OK;
}

static porta_status parse_shape(parser *p, porta_tensor_kind kind, porta_dtype dtype,
                                porta_shape *shape, int *dim_symbol)
{
    porta_srcpos open = p->tok.pos;
    porta_status status = expect(p, PORTA_TOK_LBRACKET, "'[' to start the shape");
    if (status) return status;
    *shape = (porta_shape){0};
    if (p->tok.kind != PORTA_TOK_RBRACKET) {
        for (;;) {
            if (p->tok.kind != PORTA_TOK_INT && p->tok.kind != PORTA_TOK_IDENT)
                return expected(p, "a dim (a positive integer, or a name: 'S <= 128')");
            if (shape->rank == PORTA_MAX_RANK)
                return fail(p, p->tok.pos, PORTA_ERROR_SHAPE, "too many dims: at most %d",
                            PORTA_MAX_RANK);
            if (p->tok.kind == PORTA_TOK_IDENT) {
                status = parse_symbol(p, kind, &dim_symbol[shape->rank],
                                      &shape->dims[shape->rank]);
                if (status) return status;
                shape->rank++;
            } else {
                if (p->tok.i <= 0)
                    return fail(p, p->tok.pos, PORTA_ERROR_SHAPE, "dim %lld must be positive",
                                (long long)p->tok.i);
                shape->dims[shape->rank++] = p->tok.i;
                if ((status = next(p))) return status;
            }
            if (p->tok.kind == PORTA_TOK_RBRACKET) break;
            if (p->tok.kind != PORTA_TOK_COMMA) return expected(p, "',' or ']' in the shape");
            if ((status = next(p))) return status;
        }
    }
    if ((status = next(p))) return status;
    int64_t elements;
    if (!porta_shape_elements(shape, &elements) ||
        elements > INT64_MAX / (int64_t)porta_dtype_size(dtype)) {
        char text[128];
        porta_shape_format(shape, text, sizeof text);
        return fail(p, open, PORTA_ERROR_SHAPE,
                    "shape %s is too large: its size in bytes overflows 64 bits", text);
    }
    return PORTA_OK;
}

/* input NAME : DTYPE SHAPE    or    weight NAME : DTYPE SHAPE [= "key"] */
static porta_status parse_declaration(parser *p, porta_tensor_kind kind)
{
    const char *what = kind == PORTA_TENSOR_INPUT ? "input" : "weight";
    if (p->tok.kind != PORTA_TOK_IDENT) {
        char message[64];
        snprintf(message, sizeof message, "a name after '%s'", what);
        return expected(p, message);
    }
    porta_token name = p->tok;
    porta_status status = next(p);
    if (!status) status = expect(p, PORTA_TOK_COLON, "':' after the name");
    if (status) return status;
    porta_dtype dtype = PORTA_F32;
    /* an 8-bit weight (i8c, q8_0) is an f32 weight the device holds quantized, a bf16 one an f32
     * weight held as bfloat16 */
    porta_weight_format format = PORTA_WEIGHT_PLAIN;
    if (is_ident(&p->tok, "f32")) dtype = PORTA_F32;
    else if (is_ident(&p->tok, "f16")) dtype = PORTA_F16;
    else if (is_ident(&p->tok, "i32")) dtype = PORTA_I32;
    else if (kind == PORTA_TENSOR_WEIGHT && is_ident(&p->tok, "i8c")) format = PORTA_WEIGHT_I8C;
    else if (kind == PORTA_TENSOR_WEIGHT && is_ident(&p->tok, "q8_0")) format = PORTA_WEIGHT_Q8_0;
    else if (kind == PORTA_TENSOR_WEIGHT && is_ident(&p->tok, "bf16")) format = PORTA_WEIGHT_BF16;
    else if (p->tok.kind == PORTA_TOK_IDENT)
        return fail(p, p->tok.pos, PORTA_ERROR_PARSE, "unknown dtype '%.*s'; expected %s",
                    (int)p->tok.length, p->tok.text,
                    kind == PORTA_TENSOR_WEIGHT ? "f32, f16, i32, i8c, q8_0 or bf16" : "f32, f16 or i32");
    else return expected(p, "a dtype (f32, f16 or i32)");
    if ((status = next(p))) return status;
    porta_shape shape;
    int dim_symbol[PORTA_MAX_RANK] = {0};
    if ((status = parse_shape(p, kind, dtype, &shape, dim_symbol))) return status;
    char *key = NULL;
    if (kind == PORTA_TENSOR_WEIGHT && p->tok.kind == PORTA_TOK_EQUALS) {
        if ((status = next(p))) return status;
        if (p->tok.kind != PORTA_TOK_STRING)
            return expected(p, "a quoted key after '=' (the weight's name in a weights file)");
        if (p->tok.length == 2)
            return fail(p, p->tok.pos, PORTA_ERROR_PARSE, "the weight key must not be empty");
        if (!(key = porta_lexer_string(&p->tok)))
            return porta_error(p->graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        if ((status = next(p))) {
            free(key);
            return status;
        }
    }
    porta_tensor_id id;
    if ((status = define(p, &name, kind, &id))) {
        free(key);
        return status;
    }
    porta_tensor *tensor = &p->graph->tensors[id];
    tensor->dtype = dtype;
    tensor->format = format;
    tensor->shape = shape;
    memcpy(tensor->dim_symbol, dim_symbol, sizeof dim_symbol);
    if (kind == PORTA_TENSOR_WEIGHT) {
        tensor->key = key ? key : porta_strdup(tensor->name);
        if (!tensor->key)
            return porta_error(p->graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    return PORTA_OK;
}

/* output NAME {, NAME} */
static porta_status parse_output(parser *p)
{
    for (;;) {
        if (p->tok.kind != PORTA_TOK_IDENT) return expected(p, "a tensor name after 'output'");
        porta_tensor_id id;
        porta_status status = reference(p, &p->tok, &id);
        if (status) return status;
        porta_graph_add_output(p->graph, id);
        if ((status = next(p))) return status;
        if (p->tok.kind != PORTA_TOK_COMMA) return PORTA_OK;
        if ((status = next(p))) return status;
    }
}

/* ---- calls ------------------------------------------------------------------------------------ */

static porta_status unknown_op(parser *p, const porta_token *tok, const char *name)
{
    int best = -1;
    size_t best_distance = 3;
    for (int i = 0; i < PORTA_OP_COUNT; i++) {
        size_t d = porta_edit_distance(name, porta_op_get(i)->name);
        if (d < best_distance) best = i, best_distance = d;
    }
    if (best >= 0)
        return fail(p, tok->pos, PORTA_ERROR_INVALID_GRAPH, "unknown op '%s'; did you mean '%s'?",
                    name, porta_op_get(best)->name);
    return fail(p, tok->pos, PORTA_ERROR_INVALID_GRAPH,
                "unknown op '%s' (docs/ops.md lists the ops)", name);
}

static porta_status parse_call(parser *p, const porta_token *op_tok, porta_tensor_id output);

/* A nested call as an operand: its result is a fresh anonymous tensor "_N". */
static porta_status parse_nested(parser *p, const porta_token *op_tok, porta_tensor_id *out)
{
    char *name = porta_graph_fresh_name(p->graph);
    if (!name) return porta_error(p->graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    porta_status status = porta_graph_new_tensor(p->graph, name, PORTA_TENSOR_NODE, op_tok->pos, out);
    free(name);
    if (status) return status;
    return parse_call(p, op_tok, *out);
}

/* An operand: NAME or op(...). The first identifier was already read into `first`. */
static porta_status parse_operand(parser *p, const porta_token *first, porta_tensor_id *out)
{
    if (p->tok.kind == PORTA_TOK_LPAREN) return parse_nested(p, first, out);
    return reference(p, first, out);
}

static const char *kind_words(porta_attr_kind kind)
{
    switch (kind) {
    case PORTA_ATTR_INT: return "an integer";
    case PORTA_ATTR_FLOAT: return "a number";
    case PORTA_ATTR_BOOL: return "true or false";
    case PORTA_ATTR_STRING: return "a quoted string";
    case PORTA_ATTR_INTS: return "a list of integers";
    }
    return "a value";
}

/* The value of an attribute: INT, FLOAT, STRING, true/false or [INT, ...]. Sets it on the node. */
static porta_status parse_attr(parser *p, int node_index, const char *name, porta_srcpos pos)
{
    porta_attr attr = {.name = name};
    int64_t list[MAX_LIST];
    char *string = NULL;
    porta_status status;
    switch (p->tok.kind) {
    case PORTA_TOK_INT: attr.kind = PORTA_ATTR_INT, attr.i = p->tok.i; break;
    case PORTA_TOK_FLOAT: attr.kind = PORTA_ATTR_FLOAT, attr.f = p->tok.f; break;
    case PORTA_TOK_IDENT: attr.kind = PORTA_ATTR_BOOL, attr.b = is_ident(&p->tok, "true"); break;
    case PORTA_TOK_STRING:
        if (!(string = porta_lexer_string(&p->tok)))
            return porta_error(p->graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        attr.kind = PORTA_ATTR_STRING, attr.s = string;
        break;
    case PORTA_TOK_LBRACKET:
        attr.kind = PORTA_ATTR_INTS, attr.ints = list;
        if ((status = next(p))) return status;
        if (p->tok.kind == PORTA_TOK_RBRACKET) break;
        for (;;) {
            if (p->tok.kind != PORTA_TOK_INT) return expected(p, "an integer in the list");
            if (attr.n_ints == MAX_LIST)
                return fail(p, p->tok.pos, PORTA_ERROR_PARSE, "list longer than %d values",
                            MAX_LIST);
            list[attr.n_ints++] = p->tok.i;
            if ((status = next(p))) return status;
            if (p->tok.kind == PORTA_TOK_RBRACKET) break;
            if (p->tok.kind != PORTA_TOK_COMMA) return expected(p, "',' or ']' in the list");
            if ((status = next(p))) return status;
        }
        break;
    default:
        return expected(p, "a value (a name, a call, a number, a string, true, false or a list)");
    }
    status = porta_node_set_attr(p->graph, &p->graph->nodes[node_index], &attr, pos);
    free(string);
    if (!status) status = next(p);
    return status;
}

/* name=value: an optional operand (value is a name or a call) or an attribute. */
static porta_status parse_named(parser *p, int node_index, const porta_token *name_tok)
{
    char name[PORTA_MAX_IDENTIFIER + 1];
    token_copy(name_tok, name, sizeof name);
    porta_status status = next(p);    /* past '=' */
    if (status) return status;
    const porta_op_info *info = porta_op_get(p->graph->nodes[node_index].op);
    int attr_index = porta_op_attr_index(info, name);
    bool boolean = is_ident(&p->tok, "true") || is_ident(&p->tok, "false");
    if (p->tok.kind != PORTA_TOK_IDENT || boolean)
        return parse_attr(p, node_index, name, name_tok->pos);

    porta_token value = p->tok;
    if (attr_index >= 0) {
        const porta_attr_spec *spec = &info->attrs[attr_index];
        char word[PORTA_MAX_IDENTIFIER + 1];
        token_copy(&value, word, sizeof word);
        /* an integer attribute may be a named dim declared earlier: `end=S` follows S */
        for (int k = 0; spec->kind == PORTA_ATTR_INT && k < p->graph->n_symbols; k++) {
            if (strcmp(p->graph->symbols[k].name, word)) continue;
            porta_attr attr = {.name = name, .kind = PORTA_ATTR_INT,
                               .i = p->graph->symbols[k].value};
            porta_node *node = &p->graph->nodes[node_index];
            status = porta_node_set_attr(p->graph, node, &attr, name_tok->pos);
            if (!status) node->attrs[attr_index].symbol = k + 1;
            return status ? status : next(p);
        }
        if (spec->kind == PORTA_ATTR_STRING)
            return fail(p, value.pos, PORTA_ERROR_PARSE,
                        "attribute '%s' of %s is a string, and strings are quoted: write "
                        "%s=\"%s\"", name, info->name, name, word);
        if (spec->kind == PORTA_ATTR_FLOAT &&
            (!strcasecmp(word, "inf") || !strcasecmp(word, "infinity") || !strcasecmp(word, "nan")))
            return fail(p, value.pos, PORTA_ERROR_PARSE,
                        "attribute '%s' of %s must be a finite number, not '%s'", name, info->name,
                        word);
        return fail(p, value.pos, PORTA_ERROR_PARSE, "attribute '%s' of %s must be %s, not the name '%s'",
                    name, info->name, kind_words(spec->kind), word);
    }
    if ((status = next(p))) return status;
    porta_tensor_id tensor;
    if ((status = parse_operand(p, &value, &tensor))) return status;
    return porta_node_set_operand(p->graph, &p->graph->nodes[node_index], -1, name, tensor,
                                  name_tok->pos);
}

/* op(args): `op_tok` was read, the current token should be '('. Defines the node of `output`. */
static porta_status parse_call(parser *p, const porta_token *op_tok, porta_tensor_id output)
{
    char op_name[PORTA_MAX_IDENTIFIER + 1];
    token_copy(op_tok, op_name, sizeof op_name);
    if (p->tok.kind != PORTA_TOK_LPAREN) {
        char what[200];
        snprintf(what, sizeof what, "'(' after the op name '%s'", op_name);
        return expected(p, what);
    }
    int op = porta_op_find(op_name);
    if (op < 0) return unknown_op(p, op_tok, op_name);
    if (p->depth >= PORTA_MAX_NESTING)
        return fail(p, op_tok->pos, PORTA_ERROR_PARSE, "calls nested too deeply (at most %d levels)",
                    PORTA_MAX_NESTING);
    porta_node *node;
    porta_status status = porta_graph_define_node(p->graph, output, op, op_tok->pos, &node);
    if (status) return status;
    int node_index = (int)(node - p->graph->nodes);
    p->depth++;
    if ((status = next(p))) return status;   /* past '(' */
    int position = 0;
    bool named_seen = false;
    if (p->tok.kind == PORTA_TOK_RPAREN) {
        status = next(p);
    } else {
        for (;;) {
            if (p->tok.kind != PORTA_TOK_IDENT) {
                if (p->tok.kind == PORTA_TOK_INT || p->tok.kind == PORTA_TOK_FLOAT ||
                    p->tok.kind == PORTA_TOK_STRING || p->tok.kind == PORTA_TOK_LBRACKET)
                    return expected(p, "an operand (a name or a call); attributes are written "
                                       "name=value");
                return expected(p, "an argument (an operand, or name=value)");
            }
            porta_token first = p->tok;
            if ((status = next(p))) return status;
            if (p->tok.kind == PORTA_TOK_EQUALS) {
                named_seen = true;
                if ((status = parse_named(p, node_index, &first))) return status;
            } else {
                if (named_seen)
                    return fail(p, first.pos, PORTA_ERROR_PARSE,
                                "positional operand after a named item: operands come first, then "
                                "name=value items");
                porta_tensor_id tensor;
                if ((status = parse_operand(p, &first, &tensor))) return status;
                if ((status = porta_node_set_operand(p->graph, &p->graph->nodes[node_index],
                                                     position++, NULL, tensor, first.pos)))
                    return status;
            }
            if (p->tok.kind == PORTA_TOK_RPAREN) {
                status = next(p);
                break;
            }
            if (p->tok.kind != PORTA_TOK_COMMA) return expected(p, "')' or ',' after argument");
            if ((status = next(p))) return status;
        }
    }
    if (status) return status;
    p->depth--;
    return porta_node_check_complete(p->graph, &p->graph->nodes[node_index]);
}

/* ---- statements ------------------------------------------------------------------------------- */

static porta_status parse_statement(parser *p)
{
    porta_token first = p->tok;
    porta_status status = next(p);
    if (status) return status;
    if (p->tok.kind == PORTA_TOK_EQUALS) {
        /* NAME = op(...) */
        porta_tensor_id output;
        if ((status = define(p, &first, PORTA_TENSOR_NODE, &output))) return status;
        if ((status = next(p))) return status;
        if (p->tok.kind != PORTA_TOK_IDENT) return expected(p, "an op call after '='");
        porta_token op = p->tok;
        if ((status = next(p))) return status;
        return parse_call(p, &op, output);
    }
    if (is_ident(&first, "input")) return parse_declaration(p, PORTA_TENSOR_INPUT);
    if (is_ident(&first, "weight")) return parse_declaration(p, PORTA_TENSOR_WEIGHT);
    if (is_ident(&first, "output")) return parse_output(p);
    if (is_ident(&first, "graph"))
        return fail(p, first.pos, PORTA_ERROR_PARSE,
                    "'graph' may appear only once, as the first statement");
    char found[64];
    porta_token_describe(&first, found, sizeof found);
    return fail(p, first.pos, PORTA_ERROR_PARSE,
                "expected a statement (input, weight, output or NAME = op(...)), found %s", found);
}

static porta_status end_of_statement(parser *p)
{
    if (p->tok.kind == PORTA_TOK_EOF) return PORTA_OK;
    if (p->tok.kind != PORTA_TOK_NEWLINE) return expected(p, "end of line after the statement");
    return next(p);
}

static porta_status skip_blank_lines(parser *p)
{
    porta_status status = PORTA_OK;
    while (!status && p->tok.kind == PORTA_TOK_NEWLINE) status = next(p);
    return status;
}

static porta_status parse_header(parser *p)
{
    porta_status status = skip_blank_lines(p);
    if (status) return status;
    if (!is_ident(&p->tok, "graph")) return expected(p, "'graph NAME' as the first statement");
    if ((status = next(p))) return status;
    if (p->tok.kind != PORTA_TOK_IDENT) return expected(p, "a graph name after 'graph'");
    char name[PORTA_MAX_IDENTIFIER + 1];
    token_copy(&p->tok, name, sizeof name);
    char *copy = porta_strdup(name);
    if (!copy) return porta_error(p->graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    free(p->graph->name);
    p->graph->name = copy;
    if ((status = next(p))) return status;
    return end_of_statement(p);
}

static porta_status parse_graph(parser *p)
{
    porta_status status = next(p);
    if (!status) status = parse_header(p);
    while (!status && p->tok.kind != PORTA_TOK_EOF) {
        if (p->tok.kind == PORTA_TOK_NEWLINE) {
            status = next(p);
            continue;
        }
        if (p->tok.kind != PORTA_TOK_IDENT) return expected(p, "a statement");
        status = parse_statement(p);
        if (!status) status = end_of_statement(p);
    }
    if (status) return status;
    porta_graph *graph = p->graph;
    bool any_output = false;
    for (int i = 0; i < graph->n_tensors; i++) {
        const porta_tensor *t = &graph->tensors[i];
        if (is_placeholder(t))
            return fail(p, t->pos, PORTA_ERROR_INVALID_GRAPH, "undefined name '%s'", t->name);
        any_output |= t->is_output;
    }
    if (!any_output)
        return fail(p, p->tok.pos, PORTA_ERROR_INVALID_GRAPH,
                    "the graph has no outputs; add an 'output NAME' statement");
    return porta_graph_validate(graph);
}

porta_status porta_graph_parse(porta_context *context, const char *text, size_t length,
                               const char *filename, porta_graph **out_graph)
{
    if (!out_graph) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                                       "porta_graph_parse: out_graph is NULL");
    *out_graph = NULL;
    if (!context) return PORTA_ERROR_INVALID_ARGUMENT;
    if (!text && length)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "porta_graph_parse: text is NULL");
    porta_graph *graph;
    porta_status status = porta_graph_create(context, "graph", &graph);
    if (status) return status;
    if (!(graph->filename = porta_strdup(filename ? filename : "<text>"))) {
        porta_graph_destroy(graph);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    status = porta_lexer_check_text(graph, text ? text : "", length);
    if (!status) {
        parser p = {.graph = graph};
        porta_lexer_init(&p.lexer, graph, text ? text : "", length);
        status = parse_graph(&p);
    }
    if (status) {
        porta_graph_destroy(graph);
        return status;
    }
    *out_graph = graph;
    return PORTA_OK;
}

porta_status porta_graph_load(porta_context *context, const char *path, porta_graph **out_graph)
{
    if (!out_graph) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                                       "porta_graph_load: out_graph is NULL");
    *out_graph = NULL;
    if (!context) return PORTA_ERROR_INVALID_ARGUMENT;
    if (!path) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "porta_graph_load: path is NULL");
    porta_error_clear(context);
    char *text;
    size_t length;
    porta_status status = porta_read_file(context, path, &text, &length);
    if (status) return status;
    status = porta_graph_parse(context, text, length, path, out_graph);
    free(text);
    return status;
}
