/* tokenizer.c - lowercase words, FNV-1a ids, paragraphs (see tokenizer.h). */
#include "kernels/tokenizer.h"

#include <stdlib.h>

#include "base/err.h"

static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

uint32_t kn_token_id(const char *word, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)word[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h % KN_VOCAB;
}

void kn_tokenize(const char *text, size_t len, size_t max, struct kn_tokens *t)
{
    size_t cap = 1024;
    t->n = 0;
    t->id = xmalloc(sizeof *t->id * cap);
    t->seq = xmalloc(sizeof *t->seq * cap);
    t->pos = xmalloc(sizeof *t->pos * cap);
    int32_t seq = 0, pos = 0;
    int newlines = 0; /* newlines since the last word, blanks ignored */
    size_t i = 0;
    while (i < len && (max == 0 || t->n < max)) {
        unsigned char c = (unsigned char)text[i];
        if (!is_word(c)) {
            if (c == '\n')
                newlines++;
            else if (c != ' ' && c != '\t' && c != '\r')
                newlines = newlines >= 2 ? newlines : 0;
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && is_word((unsigned char)text[j]))
            j++;
        if (newlines >= 2 && pos > 0) seq++, pos = 0;
        newlines = 0;
        if (t->n == cap) {
            cap *= 2;
            t->id = xrealloc(t->id, sizeof *t->id * cap);
            t->seq = xrealloc(t->seq, sizeof *t->seq * cap);
            t->pos = xrealloc(t->pos, sizeof *t->pos * cap);
        }
        t->id[t->n] = kn_token_id(text + i, j - i);
        t->seq[t->n] = seq;
        t->pos[t->n] = pos++;
        t->n++;
        i = j;
    }
}

void kn_tokens_free(struct kn_tokens *t)
{
    free(t->id);
    free(t->seq);
    free(t->pos);
    t->id = NULL;
    t->seq = t->pos = NULL;
    t->n = 0;
}
