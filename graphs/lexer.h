/* The tokens of the .pg format (docs/format.md). The lexer works on one buffer, on demand: the
 * parser asks for the next token; nothing is allocated. */
#ifndef PORTA_LEXER_H
#define PORTA_LEXER_H

#include "graphs/graph.h"

#define PORTA_MAX_IDENTIFIER 128

typedef enum porta_token_kind {
    PORTA_TOK_EOF = 0,
    PORTA_TOK_NEWLINE,
    PORTA_TOK_IDENT,
    PORTA_TOK_INT,
    PORTA_TOK_FLOAT,
    PORTA_TOK_STRING,      /* text holds the quotes; porta_lexer_string decodes it */
    PORTA_TOK_LPAREN,
    PORTA_TOK_RPAREN,
    PORTA_TOK_LBRACKET,
    PORTA_TOK_RBRACKET,
    PORTA_TOK_COMMA,
    PORTA_TOK_EQUALS,
    PORTA_TOK_COLON,
    PORTA_TOK_AT_MOST,     /* <= in a shape: a dim's maximum */
} porta_token_kind;

typedef struct porta_token {
    porta_token_kind kind;
    const char *text;      /* points into the source */
    size_t length;
    porta_srcpos pos;
    int64_t i;             /* PORTA_TOK_INT */
    double f;              /* PORTA_TOK_FLOAT */
} porta_token;

typedef struct porta_lexer {
    porta_graph *graph;    /* for messages (file name, context) */
    const char *text;
    size_t length, at;
    int line, col;
} porta_lexer;

/* Checks that the buffer is text: UTF-8, no NUL and no control characters other than tab, CR and
 * LF. Fails with "file:line:col: not a text file: byte 0x00 at line:col". */
porta_status porta_lexer_check_text(porta_graph *graph, const char *text, size_t length);

void porta_lexer_init(porta_lexer *lexer, porta_graph *graph, const char *text, size_t length);
/* Reads the next token, skipping blanks and comments. Fails (PORTA_ERROR_PARSE, with a message)
 * on a bad character, a malformed number, an out-of-range number, an unterminated string or an
 * identifier longer than PORTA_MAX_IDENTIFIER. */
porta_status porta_lexer_next(porta_lexer *lexer, porta_token *out_token);

/* Decodes a string token (without quotes, escapes resolved) into a new allocation. */
char *porta_lexer_string(const porta_token *token);

/* A short description of a token for messages: "'x'", "end of line", "end of file". */
void porta_token_describe(const porta_token *token, char *out, size_t size);

#endif
