/* The .pg lexer: text check, then tokens on demand. Positions are 1-based; columns count bytes. */
#include "graphs/lexer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static porta_status lex_error(const porta_lexer *lexer, porta_srcpos pos, const char *format, ...)
    PORTA_PRINTF(3, 4);

static porta_status lex_error(const porta_lexer *lexer, porta_srcpos pos, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    porta_status status = porta_graph_error_at_v(lexer->graph, pos, PORTA_ERROR_PARSE, format, args);
    va_end(args);
    return status;
}

/* Length of the UTF-8 sequence at p (at most `left` bytes), or 0 when it is not valid UTF-8. */
static size_t utf8_length(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned min;
    unsigned code;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2, min = 0x80, code = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, min = 0x800, code = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, min = 0x10000, code = c & 0x07;
    else return 0;
    if (n > left) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        code = (code << 6) | (p[i] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
    return n;
}

porta_status porta_lexer_check_text(porta_graph *graph, const char *text, size_t length)
{
    const unsigned char *p = (const unsigned char *)text;
    int line = 1, col = 1;
    for (size_t at = 0; at < length;) {
        unsigned char c = p[at];
        size_t n = utf8_length(p + at, length - at);
        bool control = c < 0x20 ? !(c == '\t' || c == '\n' || c == '\r') : c == 0x7F;
        if (n == 0 || control) {
            porta_srcpos pos = {line, col};
            return porta_graph_error_at(graph, pos, PORTA_ERROR_PARSE,
                                        "not a text file: byte 0x%02x at %d:%d%s", c, line, col,
                                        n == 0 ? " (not UTF-8)" : " (a control character)");
        }
        if (c == '\n') line++, col = 1;
        else col += (int)n;
        at += n;
    }
    return PORTA_OK;
}

void porta_lexer_init(porta_lexer *lexer, porta_graph *graph, const char *text, size_t length)
{
    *lexer = (porta_lexer){.graph = graph, .text = text, .length = length, .line = 1, .col = 1};
}

static int peek(const porta_lexer *lexer, size_t ahead)
{
    size_t at = lexer->at + ahead;
    return at < lexer->length ? (unsigned char)lexer->text[at] : -1;
}

/* Advances over one byte that is not a newline. */
static void advance(porta_lexer *lexer, size_t count)
{
    lexer->at += count;
    lexer->col += (int)count;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident_char(int c) { return is_ident_start(c) || is_digit(c) || c == '.'; }

static porta_status lex_number(porta_lexer *lexer, porta_token *token)
{
    size_t start = lexer->at, n = 0;
    bool is_float = false;
    if (peek(lexer, 0) == '-' || peek(lexer, 0) == '+') n++;
    while (is_digit(peek(lexer, n))) n++;
    if (peek(lexer, n) == '.' && is_digit(peek(lexer, n + 1))) {
        is_float = true;
        n++;
        while (is_digit(peek(lexer, n))) n++;
    }
    if (peek(lexer, n) == 'e' || peek(lexer, n) == 'E') {
        size_t m = n + 1;
        if (peek(lexer, m) == '-' || peek(lexer, m) == '+') m++;
        if (is_digit(peek(lexer, m))) {
            is_float = true;
            n = m;
            while (is_digit(peek(lexer, n))) n++;
        }
    }
    size_t end = n;
    while (is_ident_char(peek(lexer, end))) end++;
    if (end != n)
        return lex_error(lexer, token->pos, "malformed number '%.*s'",
                         (int)(end > 64 ? 64 : end), lexer->text + start);
    token->text = lexer->text + start;
    token->length = n;
    char buffer[400];
    if (n >= sizeof buffer)
        return lex_error(lexer, token->pos, "number '%.32s...' is too long", token->text);
    memcpy(buffer, token->text, n);
    buffer[n] = '\0';
    errno = 0;
    char *stop;
    if (is_float) {
        token->kind = PORTA_TOK_FLOAT;
        token->f = strtod(buffer, &stop);
        if (*stop || !isfinite(token->f))
            return lex_error(lexer, token->pos, "number '%s' is out of range", buffer);
    } else {
        token->kind = PORTA_TOK_INT;
        long long value = strtoll(buffer, &stop, 10);
        if (*stop || errno == ERANGE)
            return lex_error(lexer, token->pos,
                             "integer '%s' is out of range (at most 64 bits, signed)", buffer);
        token->i = value;
    }
    advance(lexer, n);
    return PORTA_OK;
}

static porta_status lex_string(porta_lexer *lexer, porta_token *token)
{
    size_t n = 1;
    for (;;) {
        int c = peek(lexer, n);
        if (c < 0 || c == '\n' || c == '\r')
            return lex_error(lexer, token->pos, "unterminated string: a string ends with '\"' on "
                                                "the line it starts");
        if (c == '"') break;
        if (c == '\\') {
            int e = peek(lexer, n + 1);
            if (e != '"' && e != '\\') {
                porta_srcpos pos = {lexer->line, lexer->col + (int)n};
                if (e < 0 || e == '\n' || e == '\r')
                    return lex_error(lexer, token->pos, "unterminated string: a string ends with "
                                                        "'\"' on the line it starts");
                return lex_error(lexer, pos, "unknown escape '\\%c' in string; only \\\" and \\\\ "
                                             "are allowed", e >= 0x20 && e < 0x7F ? e : '?');
            }
            n += 2;
            continue;
        }
        n++;
    }
    token->kind = PORTA_TOK_STRING;
    token->text = lexer->text + lexer->at;
    token->length = n + 1;
    advance(lexer, n + 1);
    return PORTA_OK;
}

char *porta_lexer_string(const porta_token *token)
{
    char *out = malloc(token->length);
    if (!out) return NULL;
    size_t n = 0;
    for (size_t i = 1; i + 1 < token->length; i++) {
        if (token->text[i] == '\\') i++;
        out[n++] = token->text[i];
    }
    out[n] = '\0';
    return out;
}

porta_status porta_lexer_next(porta_lexer *lexer, porta_token *token)
{
    *token = (porta_token){0};
    for (;;) {
        int c = peek(lexer, 0);
        if (c == ' ' || c == '\t' || c == '\r') {
            advance(lexer, 1);
        } else if (c == '#') {
            while (peek(lexer, 0) >= 0 && peek(lexer, 0) != '\n') advance(lexer, 1);
        } else {
            break;
        }
    }
    token->pos = (porta_srcpos){lexer->line, lexer->col};
    token->text = lexer->text + lexer->at;
    token->length = 1;
    int c = peek(lexer, 0);
    if (c < 0) {
        token->kind = PORTA_TOK_EOF;
        token->length = 0;
        return PORTA_OK;
    }
    if (c == '\n') {
        token->kind = PORTA_TOK_NEWLINE;
        lexer->at++;
        lexer->line++;
        lexer->col = 1;
        return PORTA_OK;
    }
    if (is_ident_start(c)) {
        size_t n = 1;
        while (is_ident_char(peek(lexer, n))) n++;
        if (n > PORTA_MAX_IDENTIFIER)
            return lex_error(lexer, token->pos, "identifier '%.32s...' is longer than %d characters",
                             token->text, PORTA_MAX_IDENTIFIER);
        token->kind = PORTA_TOK_IDENT;
        token->length = n;
        advance(lexer, n);
        return PORTA_OK;
    }
    if (is_digit(c) || ((c == '-' || c == '+') && is_digit(peek(lexer, 1))))
        return lex_number(lexer, token);
    if (c == '"') return lex_string(lexer, token);
    if (c == '<' && peek(lexer, 1) == '=') {
        token->kind = PORTA_TOK_AT_MOST;
        token->length = 2;
        advance(lexer, 2);
        return PORTA_OK;
    }
    static const struct { char c; porta_token_kind kind; } punctuation[] = {
        {'(', PORTA_TOK_LPAREN}, {')', PORTA_TOK_RPAREN}, {'[', PORTA_TOK_LBRACKET},
        {']', PORTA_TOK_RBRACKET}, {',', PORTA_TOK_COMMA}, {'=', PORTA_TOK_EQUALS},
        {':', PORTA_TOK_COLON},
    };
    for (size_t i = 0; i < sizeof punctuation / sizeof punctuation[0]; i++)
        if (c == punctuation[i].c) {
            token->kind = punctuation[i].kind;
            advance(lexer, 1);
            return PORTA_OK;
        }
    size_t n = utf8_length((const unsigned char *)token->text, lexer->length - lexer->at);
    if (n == 0) n = 1;
    if (c < 0x20 || c == 0x7F)
        return lex_error(lexer, token->pos, "unexpected byte 0x%02x", c);
    return lex_error(lexer, token->pos, "unexpected character '%.*s'", (int)n, token->text);
}

void porta_token_describe(const porta_token *token, char *out, size_t size)
{
    switch (token->kind) {
    case PORTA_TOK_EOF: snprintf(out, size, "end of file"); return;
    case PORTA_TOK_NEWLINE: snprintf(out, size, "end of line"); return;
    default: break;
    }
    int n = token->length > 40 ? 40 : (int)token->length;
    snprintf(out, size, "'%.*s%s'", n, token->text, token->length > 40 ? "..." : "");
}
