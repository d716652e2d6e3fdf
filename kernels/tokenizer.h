/* tokenizer.h - the simple word tokenizer behind `moesim capture`.
 *
 * A word is a maximal run of ASCII letters and digits and of bytes >= 0x80
 * (so UTF-8 letters stay inside words); everything else separates words.
 * ASCII letters are lowercased, and the word's id is its 32-bit FNV-1a hash
 * modulo KN_VOCAB. A paragraph ends at a blank line (two newlines with only
 * spaces, tabs or carriage returns between them); paragraphs number the
 * sequences of the trace (seq 0, 1, ...), token positions restart at 0 in
 * each. This is not a model's tokenizer: the ids only pick embedding rows.
 */
#ifndef MOESIM_KN_TOKENIZER_H
#define MOESIM_KN_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define KN_VOCAB 32000

struct kn_tokens {
    size_t n;
    uint32_t *id; /* [n] token ids in [0, KN_VOCAB) */
    int32_t *seq; /* [n] paragraph number */
    int32_t *pos; /* [n] position within the paragraph */
};

/* Tokenizes len bytes of text, keeping at most max tokens (0: all). */
void kn_tokenize(const char *text, size_t len, size_t max, struct kn_tokens *t);
void kn_tokens_free(struct kn_tokens *t);

/* FNV-1a of the lowercased word, modulo KN_VOCAB. */
uint32_t kn_token_id(const char *word, size_t len);

#endif
