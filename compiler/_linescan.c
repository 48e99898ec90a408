/* The audit's line scanner: proves JSON Lines rows clean in one pass over their bytes.

   The exact checks run in DuckDB. Most rows of a healthy export have nothing to find, and
   proving that takes one pass over the bytes: this file walks each line as JSON, looks each
   property key up in the plan's tables and runs the key's value through a small DFA (built in
   Python from the same regexes as the SQL screen, compiler/audit/linescan.py). Anything it
   cannot prove (an escape in a key, an exponent, a nested object, an unknown key, a date it
   does not parse exactly as DuckDB would) sends the line to DuckDB, which decides. So the
   scanner may only err one way, and the tests compare both on mutated rows.

   scan(data, tables, params, outputs[, from]) -> (lines, end)
     data:   bytes-like, whole lines (the last may lack its newline); scanning starts at
             offset `from` and stops at the end of data or when the outputs are full; `end` is
             the offset after the last line scanned
     tables: (classes u8[256], trans i32[states*classes], checks i32[2*checks],
              slots i32[8*slots], keybytes u8[], events i32[3*events], columns i32[6*3],
              anon u8[], user_key u8[] (the user id's key in properties; empty: none))
     params: (classes, slots, safe_any check, strict_system, identity rules on, accept_from)
     outputs: (status, event, ts, start), each with room for the same number of lines:
     status: u8 per line   0 = read it with DuckDB, 1 = clean (no check reads it), 2 = blank,
                           3 = clean, but a cross-row check reads it, and recordable (no
                               control byte or backslash; UTF-8 text allowed): see kept()
     event:  i16 per line  the event's index (status 1; otherwise -1)
     ts:     i64 per line  the timestamp, microseconds since 1970 UTC (status 1 and 3)
     start:  i64 per line  the line's offset in data
   kept(data, starts, which, ts, chunk) -> records DuckDB reads without parsing JSON (see kept)
   gather(data, starts, which) -> the lines `which` (i64 indexes into `start`), newline-ended
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The hash slots and key words are read as little-endian words (linescan.py writes them so):
   a big-endian build would never find a key. Refused at build time (the extension is optional;
   the audit then screens rows in DuckDB alone), and checked again at import. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "compiler._linescan assumes a little-endian host"
#endif

enum { TO_DUCKDB = 0, CLEAN = 1, BLANK = 2, KEPT = 3 };
enum { EV_PLAN = 1, EV_KEEP = 2 };     /* events[3*i]: flags, required mask lo, hi */
enum { NS_EVENT = -1 }; /* event names; a plan event's keys: the namespace of its index */
enum { CHECK_ANY = -2 };        /* a $-key PostHog adds: any JSON value (no rule reads it) */
enum { COL_UUID = 0, COL_DISTINCT_ID = 1, COL_PERSON_ID = 2 };

typedef struct {
    const uint8_t *classes;
    const int32_t *trans;
    const int32_t *checks; /* per check: DFA start state (or CHECK_ANY), arrays allowed */
    const int32_t *slots;  /* see lookup() */
    const uint8_t *keybytes;
    const int32_t *events;
    const int32_t *columns; /* per column: checked, required, min len, max len, dfa, dfa */
    const uint8_t *anon;
    Py_ssize_t anon_len;
    const uint8_t *user_key; /* the key of the plan's user id (role user_id); empty: none */
    Py_ssize_t user_len;
    int32_t nclasses, nslots, safe_any, strict, identity, accept_from;
    int64_t ntrans, nchecks, nevents, nkeybytes; /* entries of trans, checks, events; bytes */
    int shift; /* 64 - log2(nslots): a hash's top bits pick its slot */
    const uint8_t *end; /* the end of the data: reads stop there */
} Tables;

typedef struct {
    Py_ssize_t at, len; /* the value's text; len 0: absent */
} Span;

/* The first quote in [p, end), 16 bytes at a time. Inline: most strings are short, and a call
   to memchr costs more than the search. */
static inline const uint8_t *find_quote(const uint8_t *p, const uint8_t *end) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    for (; p + 16 <= end; p += 16) {
        int m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), quote));
        if (m) return p + __builtin_ctz((unsigned)m);
    }
#endif
    for (; p < end; p++)
        if (*p == '"') return p;
    return NULL;
}

/* The first 16 bytes of key[0..n) as two little-endian words, zero-padded. */
static inline void key_words(const uint8_t *key, Py_ssize_t n, const uint8_t *end, uint64_t *a,
                             uint64_t *b) {
    if (__builtin_expect(key + 16 <= end, 1)) { /* two loads, then mask off what follows */
        memcpy(a, key, 8), memcpy(b, key + 8, 8);
        if (n < 8) *a &= (1ULL << (8 * n)) - 1;
        if (n < 16) *b = n <= 8 ? 0 : *b & ((1ULL << (8 * (n - 8))) - 1);
        return;
    }
    uint8_t pad[16] = {0};
    memcpy(pad, key, (size_t)(n < 16 ? n : 16));
    memcpy(a, pad, 8), memcpy(b, pad + 8, 8);
}

/* The value stored for (ns, key), or INT32_MIN. A slot holds the key's namespace, length,
   value, offset in keybytes and first 16 bytes as two words; the hash (linescan.py's `_hash`
   computes the same) is one multiply of those words, the length and the namespace, and its
   top bits pick the first slot. */
static inline __attribute__((always_inline)) int32_t lookup(const Tables *t, int32_t ns, const uint8_t *key, Py_ssize_t n) {
    uint64_t a, b;
    key_words(key, n, t->end, &a, &b);
    uint64_t head = (uint64_t)(uint32_t)ns | (uint64_t)n << 32;
    uint64_t h = (a ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ (head * 0x165667B19E3779F9ULL)) *
                 0x9E3779B97F4A7C15ULL;
    uint64_t mask = (uint64_t)t->nslots - 1;
    for (uint64_t i = h >> t->shift;; i = (i + 1) & mask) {
        const int32_t *s = t->slots + 8 * i;
        uint64_t sh, sa, sb;
        memcpy(&sh, s, 8);
        if (sh == head) {
            memcpy(&sa, s + 4, 8), memcpy(&sb, s + 6, 8);
            if (sa == a && sb == b &&
                (n <= 16 || memcmp(t->keybytes + s[3] + 16, key + 16, (size_t)(n - 16)) == 0))
                return s[2];
        } else if (s[0] == INT32_MIN) {
            return INT32_MIN;
        }
    }
}

/* States are numbered by their row's offset in `trans`, accepting ones last (dfa.py's
   Table), so a step is one add and one load, and "accepting" one comparison. The dead state 0
   leads to itself. */
static int run_dfa(const Tables *t, int32_t start, const uint8_t *p, Py_ssize_t n) {
    const uint32_t *trans = (const uint32_t *)t->trans;
    const uint8_t *classes = t->classes;
    uint32_t state = (uint32_t)start; /* unsigned: no sign extension in the chain of loads */
    for (Py_ssize_t i = 0; i < n; i++) state = trans[(size_t)state + classes[p[i]]];
    return state >= (uint32_t)t->accept_from;
}

static int skip_number(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i);

/* In a plain line: the value at s[*i] ends at its closing quote (a string) or before the
   member's end (',', '}' or whitespace); its text must take the DFA to an accepting state. */
static int dfa_value(const Tables *t, int32_t state, const uint8_t *s, Py_ssize_t n,
                     Py_ssize_t *i) {
    Py_ssize_t from = *i, end;
    if (s[from] == '"') {
        const uint8_t *quote = find_quote(s + from + 1, s + n);
        if (quote == NULL) return 0;
        end = quote - s + 1;
    } else {
        end = from;
        while (end < n && s[end] != ',' && s[end] != '}' && s[end] != ']' && s[end] != ' ' &&
               s[end] != '\t' && s[end] != '\r')
            end++;
        if (s[from] == '-' || (s[from] >= '0' && s[from] <= '9')) {
            Py_ssize_t k = from; /* a number: the digit and exponent limits of skip_number */
            if (!skip_number(s, n, &k) || k != end) return 0;
        }
    }
    if (!run_dfa(t, state, s + from, end - from)) return 0;
    *i = end;
    return 1;
}

/* One UTF-8 character starting at s[*i] (a byte >= 0x80): valid, shortest form, no surrogate. */
static int utf8_char(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i) {
    uint8_t c = s[*i];
    int more;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) more = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) more = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) more = 3, cp = c & 0x07;
    else return 0;
    if (*i + more >= n) return 0;
    for (int k = 1; k <= more; k++) {
        uint8_t b = s[*i + k];
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *i += more + 1;
    return 1;
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int skip_string_slow(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i, int *escaped);

/* A JSON string at s[*i] == '"'. Sets *escaped when it holds an escape. In a plain line (no
   escape, control or non-ASCII byte anywhere) a string ends at the next quote. */
static inline int skip_string(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i, int *escaped,
                              int plain) {
    if (plain) {
        const uint8_t *quote = find_quote(s + *i + 1, s + n);
        *escaped = 0;
        if (quote == NULL) return 0;
        *i = quote - s + 1;
        return 1;
    }
    return skip_string_slow(s, n, i, escaped);
}

/* Most strings of a line that is not plain still are: find the quote, check the bytes before
   it in one branch-free pass, and only then walk the string byte by byte. */
static __attribute__((noinline)) int skip_string_slow(const uint8_t *s, Py_ssize_t n,
                                                      Py_ssize_t *i, int *escaped) {
    Py_ssize_t j = *i + 1;
    *escaped = 0;
    const uint8_t *quote = find_quote(s + j, s + n);
    if (quote != NULL) {
        Py_ssize_t end = quote - s;
        uint8_t odd = 0;
        for (Py_ssize_t k = j; k < end; k++)
            odd |= (uint8_t)((s[k] < 0x20) | (s[k] == '\\') | (s[k] >= 0x80));
        if (!odd) {
            *i = end + 1;
            return 1;
        }
    }
    while (j < n) {
        uint8_t c = s[j];
        if (c == '"') {
            *i = j + 1;
            return 1;
        }
        if (c < 0x20) return 0;
        if (c == '\\') {
            *escaped = 1;
            if (j + 1 >= n) return 0;
            uint8_t e = s[j + 1];
            if (e == 'u') {
                int v = 0;
                for (int k = 2; k < 6; k++) {
                    int h = j + k < n ? hexval(s[j + k]) : -1;
                    if (h < 0) return 0;
                    v = v * 16 + h;
                }
                if (v >= 0xD800 && v <= 0xDFFF) return 0; /* surrogates: left to DuckDB */
                j += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                j += 2;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if (!utf8_char(s, n, &j)) return 0;
        } else {
            j++;
        }
    }
    return 0;
}

/* A JSON number of at most 15 digits and no exponent, so every reader agrees on its value. */
static int skip_number(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i) {
    Py_ssize_t j = *i, digits = 0;
    if (j < n && s[j] == '-') j++;
    if (j >= n || s[j] < '0' || s[j] > '9') return 0;
    if (s[j] == '0') j++, digits++;
    else
        while (j < n && s[j] >= '0' && s[j] <= '9') j++, digits++;
    if (j < n && s[j] == '.') {
        j++;
        if (j >= n || s[j] < '0' || s[j] > '9') return 0;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++, digits++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) return 0;
    if (digits > 15) return 0;
    *i = j;
    return 1;
}

static int skip_word(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i, const char *w) {
    size_t k = strlen(w);
    if (*i + (Py_ssize_t)k > n || memcmp(s + *i, w, k) != 0) return 0;
    *i += (Py_ssize_t)k;
    return 1;
}

/* A scalar: string, number, true, false or null. */
static int skip_scalar(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i, int plain) {
    int escaped;
    if (*i >= n) return 0;
    switch (s[*i]) {
    case '"': return skip_string(s, n, i, &escaped, plain);
    case 't': return skip_word(s, n, i, "true");
    case 'f': return skip_word(s, n, i, "false");
    case 'n': return skip_word(s, n, i, "null");
    default: return skip_number(s, n, i);
    }
}

/* JSON whitespace inside a line. */
static inline void ws(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i) {
    /* Compact JSON: one test. s[n], the newline after the line, is no whitespace. */
    if (__builtin_expect(s[*i] > ' ', 1)) return;
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r')) (*i)++;
}

/* Any JSON value, nested at most `depth` deep. */
static int skip_value(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i, int depth, int plain) {
    int escaped;
    if (*i >= n || depth <= 0) return 0;
    uint8_t c = s[*i];
    if (c != '{' && c != '[') return skip_scalar(s, n, i, plain);
    uint8_t close = c == '{' ? '}' : ']';
    (*i)++;
    ws(s, n, i);
    if (*i < n && s[*i] == close) {
        (*i)++;
        return 1;
    }
    for (;;) {
        if (c == '{') {
            if (*i >= n || s[*i] != '"' || !skip_string(s, n, i, &escaped, plain)) return 0;
            ws(s, n, i);
            if (*i >= n || s[*i] != ':') return 0;
            (*i)++;
            ws(s, n, i);
        }
        if (!skip_value(s, n, i, depth - 1, plain)) return 0;
        ws(s, n, i);
        if (*i >= n) return 0;
        if (s[*i] == close) {
            (*i)++;
            return 1;
        }
        if (s[*i] != ',') return 0;
        (*i)++;
        ws(s, n, i);
    }
}

/* An array of scalars (what an SDK key may hold). */
static int skip_scalar_array(const uint8_t *s, Py_ssize_t n, Py_ssize_t *i, int plain) {
    (*i)++;
    ws(s, n, i);
    if (*i < n && s[*i] == ']') {
        (*i)++;
        return 1;
    }
    for (;;) {
        if (!skip_scalar(s, n, i, plain)) return 0;
        ws(s, n, i);
        if (*i >= n) return 0;
        if (s[*i] == ']') {
            (*i)++;
            return 1;
        }
        if (s[*i] != ',') return 0;
        (*i)++;
        ws(s, n, i);
    }
}

/* The value at s[*i] passes check `id` (see `checks`); advances past it. */
static int check_value(const Tables *t, int32_t id, const uint8_t *s, Py_ssize_t n,
                       Py_ssize_t *i, int plain) {
    Py_ssize_t from = *i;
    /* PostHog's own $-keys ($set, $set_once, the flag array, ...): no rule reads their value
       (the reference engine skips $-keys for pii and undocumented keys), so any well-formed
       JSON value passes; skip_value still checks its syntax, nested at most 32 deep. */
    if (id == CHECK_ANY) return skip_value(s, n, i, 32, plain);
    int32_t start = t->checks[2 * id];
    int arrays = t->checks[2 * id + 1];
    if (from < n && s[from] == '[') return arrays && skip_scalar_array(s, n, i, plain);
    if (plain && start != CHECK_ANY) return dfa_value(t, start, s, n, i);
    if (!skip_scalar(s, n, i, plain)) return 0;
    return start == CHECK_ANY || run_dfa(t, start, s + from, *i - from);
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const uint8_t *p, int k, int *out) {
    int v = 0;
    for (int i = 0; i < k; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

/* YYYY-MM-DDTHH:MM:SS[.f{1,6}][Z|+HH:MM|-HH:MM] (no offset: UTC, the session's zone). */
static int parse_timestamp(const uint8_t *p, Py_ssize_t n, int64_t *micros) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0, sign = 0;
    if (n < 19 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return 0;
    if (!digits(p, 4, &y) || !digits(p + 5, 2, &mo) || !digits(p + 8, 2, &d) ||
        !digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &sec))
        return 0;
    if (y < 1000 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return 0;
    Py_ssize_t j = 19;
    if (j < n && p[j] == '.') {
        int k = 0;
        j++;
        while (j < n && p[j] >= '0' && p[j] <= '9' && k < 7)
            frac = frac * 10 + (p[j] - '0'), j++, k++;
        if (k == 0 || k > 6) return 0;
        for (; k < 6; k++) frac *= 10;
    }
    if (j < n && p[j] == 'Z') {
        j++;
    } else if (j < n && (p[j] == '+' || p[j] == '-')) {
        sign = p[j] == '-' ? -1 : 1;
        if (j + 6 != n || p[j + 3] != ':' || !digits(p + j + 1, 2, &oh) ||
            !digits(p + j + 4, 2, &om) || oh > 23 || om > 59)
            return 0;
        j += 6;
    }
    if (j != n) return 0;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    secs -= (int64_t)sign * (oh * 3600 + om * 60);
    *micros = secs * 1000000 + frac;
    return 1;
}

/* Characters in UTF-8 text (valid: skip_string checked it). */
static Py_ssize_t chars(const uint8_t *p, Py_ssize_t n) {
    Py_ssize_t c = 0;
    for (Py_ssize_t i = 0; i < n; i++) c += (p[i] & 0xC0) != 0x80;
    return c;
}

/* A column's plain string content passes its checks; `value` NULL: the column is NULL. */
static int column_ok(const Tables *t, int col, const uint8_t *value, Py_ssize_t n, int plain) {
    const int32_t *c = t->columns + 6 * col;
    if (!c[0]) return 1;
    if (value == NULL) return !c[1];
    Py_ssize_t len = (c[2] > 0 || c[3] >= 0) ? (plain ? n : chars(value, n)) : 0;
    if (len < c[2] || (c[3] >= 0 && len > c[3])) return 0;
    for (int k = 4; k < 6; k++) /* -1: no pattern; 0: one the DFA compiler could not take */
        if (c[k] >= 0 && !run_dfa(t, c[k], value, n)) return 0;
    return 1;
}

static const uint8_t *string_content(const uint8_t *s, Span v, int null_ok, int plain, int *ok,
                                     Py_ssize_t *len) {
    /* A string's content when it has no escape (NULL for absent or null); *ok = 0 for anything
       else. In a plain line no string has one. */
    *ok = 1;
    if (v.len == 0) return NULL;
    if (v.len == 4 && memcmp(s + v.at, "null", 4) == 0) {
        *ok = null_ok;
        return NULL;
    }
    if (s[v.at] != '"' || (!plain && memchr(s + v.at, '\\', (size_t)v.len))) {
        *ok = 0;
        return NULL;
    }
    *len = v.len - 2;
    return s + v.at + 1;
}

enum { K_UUID, K_ID, K_EVENT, K_DISTINCT_ID, K_TIMESTAMP, K_PERSON_ID, K_PROPERTIES, K_OTHER,
       K_CANONICAL };
/* A line with a canonical key at the top (source, environment, user_id, experiment_variant,
   session_id) is in the project's own shape: DuckDB reads it. These are the exports reader's
   list (CANONICAL_TOP in compiler/exports/load.py: the top-level keys it moves into
   `properties`), not the plan's; the two lists must stay the same. */

static inline int is_word(const uint8_t *p, const char *w, Py_ssize_t n) {
    return memcmp(p, w, (size_t)n) == 0;
}

/* Which top-level key p[0..n) is: by length, then one comparison. */
static int top_key(const uint8_t *p, Py_ssize_t n) {
    switch (n) {
    case 2: return is_word(p, "id", 2) ? K_ID : K_OTHER;
    case 4: return is_word(p, "uuid", 4) ? K_UUID : K_OTHER;
    case 5: return is_word(p, "event", 5) ? K_EVENT : K_OTHER;
    case 6: return is_word(p, "source", 6) ? K_CANONICAL : K_OTHER;
    case 7: return is_word(p, "user_id", 7) ? K_CANONICAL : K_OTHER;
    case 9:
        if (is_word(p, "timestamp", 9)) return K_TIMESTAMP;
        return is_word(p, "person_id", 9) ? K_PERSON_ID : K_OTHER;
    case 10:
        if (is_word(p, "properties", 10)) return K_PROPERTIES;
        return is_word(p, "session_id", 10) ? K_CANONICAL : K_OTHER;
    case 11:
        if (is_word(p, "distinct_id", 11)) return K_DISTINCT_ID;
        return is_word(p, "environment", 11) ? K_CANONICAL : K_OTHER;
    case 18: return is_word(p, "experiment_variant", 18) ? K_CANONICAL : K_OTHER;
    default: return K_OTHER;
    }
}

static int blank(const uint8_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\r' && s[i] != '\t') return 0;
    return 1;
}

/* The properties object at s[*i] of event `ev` (flags `flags`, -1: a PostHog $-event). */
static int properties_ok(const Tables *t, int32_t ev, const uint8_t *s, Py_ssize_t n,
                         Py_ssize_t *i, int *user_id, int plain) {
    uint64_t seen = 0, required = 0;
    int escaped;
    if (ev >= 0)
        required = (uint64_t)(uint32_t)t->events[3 * ev + 1] |
                   ((uint64_t)(uint32_t)t->events[3 * ev + 2] << 32);
    if (*i >= n || s[*i] != '{') return 0;
    (*i)++;
    ws(s, n, i);
    if (*i < n && s[*i] == '}') {
        (*i)++;
        return required == 0;
    }
    for (;;) {
        Py_ssize_t k = *i;
        if (k >= n || s[k] != '"' || !skip_string(s, n, i, &escaped, plain) || escaped) return 0;
        const uint8_t *key = s + k + 1;
        Py_ssize_t klen = *i - k - 2;
        ws(s, n, i);
        if (*i >= n || s[*i] != ':') return 0;
        (*i)++;
        ws(s, n, i);
        int32_t check;
        int32_t entry = ev >= 0 ? lookup(t, ev, key, klen) : INT32_MIN;
        if (entry != INT32_MIN) {
            check = entry & 0xFFFF;
            int bit = (entry >> 16) & 0xFF;
            if (check == 0xFFFF) return 0; /* a key the scanner cannot prove */
            if (bit != 0xFF) {
                if (seen >> bit & 1) return 0; /* a repeated key: DuckDB decides */
                seen |= 1ULL << bit;
            }
        } else if (klen > 0 && key[0] == '$') {
            if (t->strict) return 0;
            check = CHECK_ANY; /* PostHog's own (a plan's $-key is in the event's namespace) */
        } else if (ev < 0) {
            check = t->safe_any;
        } else {
            return 0; /* undocumented, or a plan key this event does not have */
        }
        if (klen == t->user_len && klen > 0 && memcmp(key, t->user_key, (size_t)klen) == 0 &&
            *i < n && s[*i] == '"')
            *user_id = 1;
        if (!check_value(t, check, s, n, i, plain)) return 0;
        ws(s, n, i);
        if (*i >= n) return 0;
        if (s[*i] == '}') {
            (*i)++;
            return (seen & required) == required;
        }
        if (s[*i] != ',') return 0;
        (*i)++;
        ws(s, n, i);
    }
}

/* The event named by the span: its index (*ev) and flags (*flags); 0 for a line DuckDB must
   read (no plan event, and no $-event the tables name). */
static int resolve_event(const Tables *t, const uint8_t *s, Span span, int plain, int32_t *ev,
                         int32_t *flags) {
    int ok;
    Py_ssize_t len = 0;
    const uint8_t *name = string_content(s, span, 0, plain, &ok, &len);
    if (!ok || name == NULL || len == 0) return 0;
    *ev = lookup(t, NS_EVENT, name, len);
    *flags = *ev != INT32_MIN ? t->events[3 * *ev] : 0;
    if (!(*flags & EV_PLAN) && (name[0] != '$' || t->strict)) return 0;
    return *ev != INT32_MIN; /* a $-event with no index: DuckDB names it */
}

/* A line a record can carry as it is: no control byte and no backslash (so no escape), though
   it may hold UTF-8 text, which the walk of a line that is not plain has validated. Its
   strings end at their next quote, as in a plain line. */
static int recordable(const uint8_t *s, Py_ssize_t n) {
    Py_ssize_t k = 0;
#ifdef __SSE2__
    /* 16 bytes at a time: a byte is a control when min(byte, 0x1F) == byte (unsigned). */
    const __m128i backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
    for (; k + 16 <= n; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + k));
        __m128i odd = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, control), v),
                                   _mm_cmpeq_epi8(v, backslash));
        if (_mm_movemask_epi8(odd)) return 0;
    }
#endif
    for (; k < n; k++)
        if (s[k] < 0x20 || s[k] == '\\') return 0;
    return 1;
}

/* One line (no newline; `plain`: no escape, control or non-ASCII byte in it). The properties
   are checked as the walk meets them when the event came first (PostHog's order), else after
   the walk. */
static int scan_line(const Tables *t, const uint8_t *s, Py_ssize_t n, int plain, int16_t *event,
                     int64_t *ts) {
    Span top[K_OTHER];
    int escaped, user_id = 0, checked = 0;
    int32_t ev = INT32_MIN, flags = 0;
    memset(top, 0, sizeof top);
    if (blank(s, n)) return BLANK;
    Py_ssize_t i = 0;
    ws(s, n, &i);
    if (s[i] != '{') return TO_DUCKDB;
    i++;
    ws(s, n, &i);
    if (i >= n || s[i] == '}') return TO_DUCKDB;
    for (;;) {
        Py_ssize_t k = i;
        if (s[i] != '"' || !skip_string(s, n, &i, &escaped, plain) || escaped) return TO_DUCKDB;
        int which = top_key(s + k + 1, i - k - 2);
        ws(s, n, &i);
        if (which == K_CANONICAL || i >= n || s[i] != ':') return TO_DUCKDB;
        i++;
        ws(s, n, &i);
        Py_ssize_t v = i;
        if (which == K_PROPERTIES && top[K_EVENT].len && !top[K_PROPERTIES].len) {
            if (!resolve_event(t, s, top[K_EVENT], plain, &ev, &flags) ||
                !properties_ok(t, flags & EV_PLAN ? ev : -1, s, n, &i, &user_id, plain))
                return TO_DUCKDB;
            checked = 1;
        } else if (plain && s[i] == '"') { /* most values: a string; no call needed */
            const uint8_t *quote = find_quote(s + i + 1, s + n);
            if (quote == NULL) return TO_DUCKDB;
            i = quote - s + 1;
        } else if (!skip_value(s, n, &i, 32, plain)) {
            return TO_DUCKDB;
        }
        if (which != K_OTHER) {
            if (top[which].len) return TO_DUCKDB;
            top[which].at = v, top[which].len = i - v;
        }
        ws(s, n, &i);
        if (i >= n) return TO_DUCKDB;
        if (s[i] == '}') break;
        if (s[i] != ',') return TO_DUCKDB;
        i++;
        ws(s, n, &i);
        if (i >= n) return TO_DUCKDB;
    }
    i++;
    ws(s, n, &i);
    if (i != n) return TO_DUCKDB;

    /* The event: a plan event, or a PostHog $-event. */
    if (!checked && !resolve_event(t, s, top[K_EVENT], plain, &ev, &flags)) return TO_DUCKDB;
    int plan = flags & EV_PLAN, ok;

    /* The columns. */
    const uint8_t *uuid, *distinct_id, *person_id, *stamp;
    Py_ssize_t uuid_len = 0, did_len = 0, pid_len = 0, ts_len = 0;
    uuid = string_content(s, top[K_UUID], 1, plain, &ok, &uuid_len);
    if (!ok) return TO_DUCKDB;
    if (uuid == NULL) {
        uuid = string_content(s, top[K_ID], 1, plain, &ok, &uuid_len);
        if (!ok) return TO_DUCKDB;
    }
    distinct_id = string_content(s, top[K_DISTINCT_ID], 0, plain, &ok, &did_len);
    if (!ok || distinct_id == NULL) return TO_DUCKDB;
    person_id = string_content(s, top[K_PERSON_ID], 1, plain, &ok, &pid_len);
    if (!ok) return TO_DUCKDB;
    stamp = string_content(s, top[K_TIMESTAMP], 0, plain, &ok, &ts_len);
    if (!ok || stamp == NULL || !parse_timestamp(stamp, ts_len, ts)) return TO_DUCKDB;
    if (plan && !(column_ok(t, COL_UUID, uuid, uuid_len, plain) &&
                  column_ok(t, COL_DISTINCT_ID, distinct_id, did_len, plain) &&
                  column_ok(t, COL_PERSON_ID, person_id, pid_len, plain)))
        return TO_DUCKDB;

    /* The properties, unless the walk checked them. */
    if (!top[K_PROPERTIES].len) return TO_DUCKDB;
    if (!checked) {
        Py_ssize_t p = top[K_PROPERTIES].at;
        if (!properties_ok(t, plan ? ev : -1, s, n, &p, &user_id, plain)) return TO_DUCKDB;
    }

    /* Rows a cross-row check reads go to DuckDB with their properties: as records (see
       kept()) when the line is recordable, else as JSON through the SQL screen again. Without a
       user id field the identity rules check no user id, so its absence keeps no row. */
    int keep = (flags & EV_KEEP) ||
               (t->identity && ((t->user_len > 0 && !user_id) ||
                                (person_id != NULL && did_len >= t->anon_len &&
                                 memcmp(distinct_id, t->anon, (size_t)t->anon_len) == 0)));
    if (keep) return plain || recordable(s, n) ? KEPT : TO_DUCKDB;
    *event = (int16_t)ev;
    return CLEAN;
}

/* The end of the line at s[0..n) (the offset of its newline, or n) and whether it is plain:
   one pass finds the first byte that is a control, a backslash or non-ASCII; if that is the
   newline, the line is plain. */
static Py_ssize_t line_end(const uint8_t *s, Py_ssize_t n, int *plain) {
    Py_ssize_t k = 0;
#ifdef __SSE2__
    const __m128i backslash = _mm_set1_epi8('\\'), low = _mm_set1_epi8(0x20);
    for (; k + 16 <= n; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + k));
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, low),
                                               _mm_cmpeq_epi8(v, backslash)));
        if (m) {
            k += __builtin_ctz((unsigned)m);
            goto odd;
        }
    }
#endif
    for (; k < n; k++)
        if (s[k] < 0x20 || s[k] == '\\' || s[k] >= 0x80) goto odd;
    *plain = 1;
    return n;
odd:
    if (s[k] == '\n') {
        *plain = 1;
        return k;
    }
    *plain = 0;
    const uint8_t *nl = memchr(s + k, '\n', (size_t)(n - k));
    return nl ? nl - s : n;
}

/* A DFA state (a row's offset in trans) the walk may start from or move to. */
static int state_ok(const Tables *t, int64_t s) {
    return s >= 0 && s < t->ntrans && s % t->nclasses == 0;
}

/* Every length and every index the walk reads through, checked once on entry: NULL, or what
   is wrong. */
static const char *check_tables(const Tables *t, const Py_buffer *tab) {
    if (tab[0].len != 256) return "scan: malformed tables (classes: 256 bytes expected)";
    if (t->nclasses < 1 || t->nclasses > 256) return "scan: malformed tables (class count)";
    for (int b = 0; b < 256; b++)
        if (t->classes[b] >= t->nclasses) return "scan: malformed tables (a class out of range)";
    if (tab[1].len % (4 * (Py_ssize_t)t->nclasses) || t->ntrans < t->nclasses)
        return "scan: malformed tables (trans: whole rows of int32 expected)";
    for (int64_t k = 0; k < t->ntrans; k++)
        if (!state_ok(t, t->trans[k])) return "scan: malformed tables (a transition out of range)";
    if (t->accept_from < 1 || t->accept_from > t->ntrans)
        return "scan: malformed tables (accept_from out of range)";
    if (tab[2].len % 8 || t->nchecks < 1) return "scan: malformed tables (checks: int32 pairs)";
    for (int64_t k = 0; k < t->nchecks; k++)
        if (!state_ok(t, t->checks[2 * k])) return "scan: malformed tables (a check's start)";
    if (t->safe_any < 0 || t->safe_any >= t->nchecks)
        return "scan: malformed tables (safe_any out of range)";
    if (tab[5].len % 12 || t->nevents > INT16_MAX)
        return "scan: malformed tables (events: int32 triples, at most 32767)";
    if (tab[6].len != 4 * 6 * 3) return "scan: malformed tables (columns: 18 int32 expected)";
    for (int c = 0; c < 3; c++)
        for (int k = 4; k < 6; k++) {
            int32_t s = t->columns[6 * c + k];
            if (s >= 0 && !state_ok(t, s)) return "scan: malformed tables (a column's DFA)";
        }
    if (t->nslots < 2 || (t->nslots & (t->nslots - 1)) ||
        tab[3].len != (Py_ssize_t)sizeof(int32_t) * 8 * t->nslots)
        return "scan: malformed tables (slots: a power of two of 8 int32 each)";
    int empty = 0;
    for (int32_t k = 0; k < t->nslots; k++) {
        const int32_t *s = t->slots + 8 * k;
        if (s[0] == INT32_MIN) {
            empty = 1;
            continue;
        }
        if (s[1] < 0 || s[3] < 0 || (int64_t)s[3] + s[1] > t->nkeybytes)
            return "scan: malformed tables (a slot's key outside keybytes)";
        if (s[0] == NS_EVENT) {
            if (s[2] < 0 || s[2] >= t->nevents) return "scan: malformed tables (an event index)";
        } else {
            int32_t check = s[2] & 0xFFFF, bit = (s[2] >> 16) & 0xFF;
            if (s[0] < 0 || s[0] >= t->nevents || s[2] < 0 ||
                (check != 0xFFFF && check >= t->nchecks) || (bit != 0xFF && bit >= 64))
                return "scan: malformed tables (a key's check or bit)";
        }
    }
    if (!empty) return "scan: malformed tables (slots: no empty slot ends a probe)";
    return NULL;
}

static int get(PyObject *tuple, Py_ssize_t k, Py_buffer *view, int writable) {
    PyObject *item = PyTuple_GetItem(tuple, k);
    if (item == NULL) return 0;
    return PyObject_GetBuffer(item, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) == 0;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer data, tab[9], out[4];
    PyObject *tables, *params, *outputs;
    int32_t param[6];
    uint8_t *copy = NULL, *part[9];
    int got = 0, outs = 0;
    Py_ssize_t lines = 0, capacity, consumed = 0;
    (void)self;
    Py_ssize_t from = 0;
    if (!PyArg_ParseTuple(args, "y*O!O!O!|n", &data, &PyTuple_Type, &tables, &PyTuple_Type,
                          &params, &PyTuple_Type, &outputs, &from))
        return NULL;
    if (PyTuple_Size(tables) != 9 || PyTuple_Size(params) != 6 || PyTuple_Size(outputs) != 4) {
        PyErr_SetString(PyExc_ValueError, "scan: 9 tables, 6 params and 4 outputs expected");
        goto fail;
    }
    for (; got < 9; got++)
        if (!get(tables, got, &tab[got], 0)) goto fail;
    for (; outs < 4; outs++)
        if (!get(outputs, outs, &out[outs], 1)) goto fail;
    Tables t;
    const char *bad = NULL;
    for (int k = 0; k < 6; k++) {
        long v = PyLong_AsLong(PyTuple_GetItem(params, k));
        if (v == -1 && PyErr_Occurred()) goto fail;
        if (v < INT32_MIN || v > INT32_MAX) bad = "scan: malformed tables (a parameter overflows)";
        param[k] = (int32_t)v;
    }
    /* The tables are copied, so no other thread can change them between the checks below
       (made with the GIL) and the walk (made without it). */
    Py_ssize_t size = 0;
    for (int k = 0; k < 9; k++) size += (tab[k].len + 7) / 8 * 8;
    copy = malloc((size_t)size + 8);
    if (copy == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    {
        uint8_t *o = copy;
        for (int k = 0; k < 9; k++) {
            memcpy(o, tab[k].buf, (size_t)tab[k].len);
            part[k] = o;
            o += (tab[k].len + 7) / 8 * 8;
        }
    }
    t.classes = part[0], t.trans = (const int32_t *)part[1], t.checks = (const int32_t *)part[2];
    t.slots = (const int32_t *)part[3], t.keybytes = part[4];
    t.events = (const int32_t *)part[5], t.columns = (const int32_t *)part[6];
    t.anon = part[7], t.anon_len = tab[7].len;
    t.user_key = part[8], t.user_len = tab[8].len;
    t.nclasses = param[0], t.nslots = param[1], t.safe_any = param[2], t.strict = param[3];
    t.identity = param[4], t.accept_from = param[5];
    t.ntrans = tab[1].len / 4, t.nchecks = tab[2].len / 8, t.nevents = tab[5].len / 12;
    t.nkeybytes = tab[4].len;
    if (bad == NULL) bad = check_tables(&t, tab);
    if (bad != NULL) {
        PyErr_SetString(PyExc_ValueError, bad);
        goto fail;
    }
    capacity = out[0].len;
    if (out[1].len < 2 * capacity || out[2].len < 8 * capacity || out[3].len < 8 * capacity) {
        PyErr_SetString(PyExc_ValueError, "scan: outputs too small");
        goto fail;
    }
    if (from < 0 || from > data.len) {
        PyErr_SetString(PyExc_ValueError, "scan: start offset out of range");
        goto fail;
    }
    t.end = (const uint8_t *)data.buf + data.len;
    t.shift = 64 - __builtin_ctz((unsigned)t.nslots);
    {
        const uint8_t *s = data.buf;
        Py_ssize_t n = data.len, at = from;
        uint8_t *status = out[0].buf;
        int16_t *event = out[1].buf;
        int64_t *ts = out[2].buf, *start = out[3].buf;
        int copy_failed = 0;
        Py_BEGIN_ALLOW_THREADS
        while (at < n && lines < capacity) {
            int plain;
            Py_ssize_t end = at + line_end(s + at, n - at, &plain);
            event[lines] = -1, ts[lines] = 0, start[lines] = at;
            if (end < n) {
                status[lines] =
                    (uint8_t)scan_line(&t, s + at, end - at, plain, &event[lines], &ts[lines]);
            } else {
                /* The last line has no newline: scanned from a copy that has one, since the
                   walk relies on a newline after every line to stop it. */
                uint8_t *line = malloc((size_t)(end - at) + 1);
                if (line == NULL) {
                    copy_failed = 1;
                    break;
                }
                memcpy(line, s + at, (size_t)(end - at));
                line[end - at] = '\n';
                Tables last = t;
                last.end = line + (end - at) + 1;
                status[lines] = (uint8_t)scan_line(&last, line, end - at, plain, &event[lines],
                                                   &ts[lines]);
                free(line);
            }
            lines++;
            at = end + 1;
        }
        Py_END_ALLOW_THREADS
        if (copy_failed) {
            PyErr_NoMemory();
            goto fail;
        }
        consumed = at < n ? at : n;
    }
    free(copy);
    for (int k = 0; k < got; k++) PyBuffer_Release(&tab[k]);
    for (int k = 0; k < outs; k++) PyBuffer_Release(&out[k]);
    PyBuffer_Release(&data);
    return Py_BuildValue("nn", lines, consumed);
fail:
    free(copy);
    for (int k = 0; k < got; k++) PyBuffer_Release(&tab[k]);
    for (int k = 0; k < outs; k++) PyBuffer_Release(&out[k]);
    PyBuffer_Release(&data);
    return NULL;
}

enum { FIELD = 0x01, NULL_FIELD = 0x02 }; /* no plain line holds a control byte */

/* A bounds-checked output buffer: a write that would pass `end` writes nothing and sets
   `full`, which kept() reports as an error (the buffer is sized so it never happens). */
typedef struct {
    uint8_t *o, *end;
    int full;
} Out;

static inline void put(Out *w, const void *p, size_t n) {
    if (w->full || (size_t)(w->end - w->o) < n) {
        w->full = 1;
        return;
    }
    memcpy(w->o, p, n);
    w->o += n;
}

static inline void put_byte(Out *w, uint8_t c) { put(w, &c, 1); }

static void put_int(Out *w, long long v) {
    char text[24]; /* 20 digits and a sign at most; written from the end */
    int k = (int)sizeof text;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        text[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0 && k > 1);
    if (v < 0) text[--k] = '-';
    put(w, text + k, sizeof text - (size_t)k);
}

/* A string column's content, or NULL_FIELD for null or absent. */
static void put_text(Out *w, const uint8_t *s, Span v) {
    int ok;
    Py_ssize_t len = 0;
    const uint8_t *text = string_content(s, v, 1, 1, &ok, &len);
    if (text == NULL)
        put_byte(w, NULL_FIELD);
    else
        put(w, text, (size_t)len);
    put_byte(w, FIELD);
}

/* Line `line` of a buffer of `len` bytes whose lines start at starts[0..lines): its bytes
   [*from, *to), to the next line's start or the end. 0, with the error set, when the index
   or the starts are out of range. */
static int line_bounds(const int64_t *starts, Py_ssize_t lines, Py_ssize_t len, int64_t line,
                       const char *caller, int64_t *from, int64_t *to) {
    if (line < 0 || line >= lines) {
        PyErr_Format(PyExc_IndexError, "%s: line out of range", caller);
        return 0;
    }
    *from = starts[line], *to = line + 1 < lines ? starts[line + 1] : len;
    if (*from < 0 || *to < *from || *to > len) {
        PyErr_Format(PyExc_ValueError, "%s: bad line starts", caller);
        return 0;
    }
    return 1;
}

/* The lines which[0..n) as (line, from, to, timestamp) rows, read and checked with the GIL
   held: the walk without the GIL reads only this copy, never the caller's arrays again. */
typedef struct {
    int64_t line, from, to, ts;
} Pick;

static Pick *picks(const Py_buffer *data, const Py_buffer *starts, const Py_buffer *which,
                   const Py_buffer *stamps, const char *caller, Py_ssize_t *count) {
    const int64_t *at = starts->buf, *pick = which->buf, *ts = stamps ? stamps->buf : NULL;
    Py_ssize_t lines = starts->len / 8, n = which->len / 8;
    if (starts->len % 8 || which->len % 8 || (stamps && stamps->len % 8)) {
        PyErr_Format(PyExc_ValueError, "%s: int64 arrays expected", caller);
        return NULL;
    }
    if (stamps && stamps->len / 8 < lines) {
        PyErr_Format(PyExc_ValueError, "%s: a timestamp per line expected", caller);
        return NULL;
    }
    Pick *out = malloc(sizeof(Pick) * (size_t)(n > 0 ? n : 1));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        int64_t line = pick[k], from, to;
        if (!line_bounds(at, lines, data->len, line, caller, &from, &to)) {
            free(out);
            return NULL;
        }
        out[k].line = line, out[k].from = from, out[k].to = to;
        out[k].ts = ts ? ts[line] : 0;
    }
    *count = n;
    return out;
}

enum { MAX_KEPT_KEYS = 32 };

/* The properties object at s[*i], written to `w` with only the members whose key is one of
   `keys`; *i then points past it. 0 when it is not a well-formed object (the line was
   clean, so it is). */
static int put_members(Out *w, const uint8_t *s, Py_ssize_t n, Py_ssize_t *at, const Span *keys,
                       const uint8_t *keytext, int nkeys) {
    int escaped, first = 1;
    Py_ssize_t i = *at;
    uint64_t lengths = 0;
    for (int j = 0; j < nkeys; j++)
        if (keys[j].len < 64) lengths |= 1ULL << keys[j].len;
    if (i >= n || s[i] != '{') return 0;
    put_byte(w, '{');
    i++;
    ws(s, n, &i);
    if (i < n && s[i] == '}') {
        put_byte(w, '}');
        *at = i + 1;
        return 1;
    }
    for (;;) {
        Py_ssize_t k = i;
        if (i >= n || s[i] != '"' || !skip_string(s, n, &i, &escaped, 1)) return 0;
        Py_ssize_t klen = i - k - 2;
        ws(s, n, &i);
        if (i >= n || s[i] != ':') return 0;
        i++;
        ws(s, n, &i);
        Py_ssize_t v = i;
        if (!skip_value(s, n, &i, 31, 1)) return 0;
        /* Most keys are none of `keys`: their length (lengths, one bit each below 64) or
           their first byte tells. */
        int maybe = klen >= 64 || (lengths >> klen & 1);
        for (int j = 0; maybe && j < nkeys; j++) {
            if (keys[j].len == klen && (klen == 0 || keytext[keys[j].at] == s[k + 1]) &&
                memcmp(keytext + keys[j].at, s + k + 1, (size_t)klen) == 0) {
                if (!first) put_byte(w, ',');
                first = 0;
                put(w, s + k, (size_t)(klen + 2));
                put_byte(w, ':');
                put(w, s + v, (size_t)(i - v));
                break;
            }
        }
        ws(s, n, &i);
        if (i >= n) return 0;
        if (s[i] == '}') {
            put_byte(w, '}');
            *at = i + 1;
            return 1;
        }
        if (s[i] != ',') return 0;
        i++;
        ws(s, n, &i);
    }
}

/* The top-level members of a line the scanner called clean (so well-formed, and plain): the
   spans of the columns, and the properties written to `props` as put_members writes them, in
   the same walk ("{}" when absent). */
static int record_spans(const uint8_t *s, Py_ssize_t n, Span top[K_OTHER], Out *props,
                        const Span *keys, const uint8_t *keytext, int nkeys) {
    int escaped, seen = 0;
    Py_ssize_t i = 0;
    memset(top, 0, sizeof(Span) * K_OTHER);
    ws(s, n, &i);
    if (i >= n || s[i] != '{') return 0;
    i++;
    for (;;) {
        ws(s, n, &i);
        Py_ssize_t k = i;
        if (i >= n || s[i] != '"' || !skip_string(s, n, &i, &escaped, 1)) return 0;
        int which = top_key(s + k + 1, i - k - 2);
        ws(s, n, &i);
        if (i >= n || s[i] != ':') return 0;
        i++;
        ws(s, n, &i);
        Py_ssize_t v = i;
        if (which == K_PROPERTIES && !seen) { /* the scanner sends a repeated one to DuckDB */
            if (!put_members(props, s, n, &i, keys, keytext, nkeys)) return 0;
            seen = 1;
        } else if (!skip_value(s, n, &i, 32, 1)) {
            return 0;
        }
        if (which < K_OTHER) top[which].at = v, top[which].len = i - v;
        ws(s, n, &i);
        if (i >= n) return 0;
        if (s[i] == '}') break;
        if (s[i] != ',') return 0;
        i++;
    }
    if (!seen) put(props, "{}", 2);
    return 1;
}

/* The most a record adds to its line's bytes: three numbers (at most 20 digits and a sign
   each), eight separators and nulls for four absent columns, the properties' braces. */
enum { RECORD_EXTRA = 3 * 21 + 8 + 4 + 2 + 1 };

/* kept(data, starts, which, ts, chunk, keys) -> bytes: for each line which[k] (one the
   scanner called KEPT), a record of FIELD-separated text ending in a newline: chunk, line
   number (which[k] + 1), uuid, event, distinct_id, timestamp (µs, from `ts`), person_id and
   the properties as JSON text, with only the members whose key is in `keys` (a tuple of
   bytes: what the cross-row checks read); NULL_FIELD for a null. DuckDB reads it as CSV with
   no quoting, which no plain line needs, and parses no JSON to do so. */
static PyObject *kept(PyObject *self, PyObject *args) {
    Py_buffer data, starts, which, stamps;
    PyObject *out = NULL, *keyset;
    long chunk;
    Span keys[MAX_KEPT_KEYS];
    uint8_t keytext[MAX_KEPT_KEYS * 64];
    int nkeys = 0;
    Py_ssize_t keyused = 0, n = 0;
    Pick *pick = NULL;
    uint8_t *buffer = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*lO!", &data, &starts, &which, &stamps, &chunk,
                          &PyTuple_Type, &keyset))
        return NULL;
    for (Py_ssize_t j = 0; j < PyTuple_Size(keyset); j++) {
        PyObject *key = PyTuple_GetItem(keyset, j);
        if (!PyBytes_Check(key) || nkeys == MAX_KEPT_KEYS ||
            keyused + PyBytes_Size(key) > (Py_ssize_t)sizeof keytext) {
            PyErr_SetString(PyExc_ValueError, "kept: at most 32 keys, as bytes, expected");
            goto done;
        }
        keys[nkeys].at = keyused, keys[nkeys].len = PyBytes_Size(key);
        memcpy(keytext + keyused, PyBytes_AsString(key), (size_t)keys[nkeys].len);
        keyused += keys[nkeys++].len;
    }
    pick = picks(&data, &starts, &which, &stamps, "kept", &n);
    if (pick == NULL) goto done;
    size_t size = 1, longest = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        size_t line = (size_t)(pick[k].to - pick[k].from);
        size_t add = line + RECORD_EXTRA;
        if (size > SIZE_MAX / 2 - add) {
            PyErr_NoMemory();
            goto done;
        }
        size += add;
        longest = line > longest ? line : longest;
    }
    /* The record, then a scratch area for one line's filtered properties (never longer than
       the line, or "{}"). */
    buffer = malloc(size + longest + 2);
    if (buffer == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const uint8_t *s = data.buf;
    uint8_t *scratch = buffer + size;
    Out w = {buffer, buffer + size, 0};
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n && !bad && !w.full; k++) {
        Py_ssize_t len = (Py_ssize_t)(pick[k].to - pick[k].from);
        const uint8_t *text = s + pick[k].from;
        uint8_t *copy = NULL;
        if (len > 0 && text[len - 1] == '\n') {
            len--;
        } else { /* the last line, without its newline: walk a copy that has one */
            copy = malloc((size_t)len + 1);
            if (copy == NULL) {
                bad = 2;
                break;
            }
            memcpy(copy, text, (size_t)len);
            copy[len] = '\n';
            text = copy;
        }
        Span top[K_OTHER];
        Out props = {scratch, scratch + longest + 2, 0};
        /* recordable: no newline inside the line, and no escape, so the walk may end each
           string at its next quote. */
        if (!recordable(text, len) ||
            !record_spans(text, len, top, &props, keys, keytext, nkeys) || props.full) {
            bad = 1;
        } else {
            put_int(&w, chunk);
            put_byte(&w, FIELD);
            put_int(&w, (long long)pick[k].line + 1);
            put_byte(&w, FIELD);
            int ok;
            Py_ssize_t uuid_len;
            int has_uuid = string_content(text, top[K_UUID], 1, 1, &ok, &uuid_len) != NULL;
            put_text(&w, text, has_uuid ? top[K_UUID] : top[K_ID]); /* coalesce(uuid, id) */
            put_text(&w, text, top[K_EVENT]);
            put_text(&w, text, top[K_DISTINCT_ID]);
            put_int(&w, (long long)pick[k].ts);
            put_byte(&w, FIELD);
            put_text(&w, text, top[K_PERSON_ID]);
            put(&w, scratch, (size_t)(props.o - scratch));
            put_byte(&w, '\n');
        }
        free(copy);
    }
    Py_END_ALLOW_THREADS
    if (bad == 1)
        PyErr_SetString(PyExc_ValueError, "kept: a line the scanner did not call KEPT");
    else if (bad == 2)
        PyErr_NoMemory();
    else if (w.full)
        PyErr_SetString(PyExc_RuntimeError, "kept: a record outgrew its buffer");
    else
        out = PyBytes_FromStringAndSize((const char *)buffer, w.o - buffer);
done:
    free(buffer);
    free(pick);
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&which);
    PyBuffer_Release(&stamps);
    return out;
}

/* gather(data, starts, which) -> bytes: lines which[0], which[1], ... of `data` (line k starts
   at starts[k] and runs to the next start, or to the end), each ending in a newline. */
static PyObject *gather(PyObject *self, PyObject *args) {
    Py_buffer data, starts, which;
    PyObject *out = NULL;
    Py_ssize_t n = 0, size = 0;
    Pick *pick = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*", &data, &starts, &which)) return NULL;
    const uint8_t *s = data.buf;
    pick = picks(&data, &starts, &which, NULL, "gather", &n);
    if (pick == NULL) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        int64_t from = pick[k].from, to = pick[k].to;
        size += to - from + (to == from || s[to - 1] != '\n');
    }
    out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL) goto done;
    {
        uint8_t *o = (uint8_t *)PyBytes_AS_STRING(out), *end = o + size;
        int over = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < n; k++) {
            int64_t from = pick[k].from, to = pick[k].to;
            int newline = to == from || s[to - 1] != '\n';
            if (end - o < to - from + newline) {
                over = 1;
                break;
            }
            memcpy(o, s + from, (size_t)(to - from));
            o += to - from;
            if (newline) *o++ = '\n';
        }
        Py_END_ALLOW_THREADS
        if (over) { /* the data changed under us between the two passes */
            Py_CLEAR(out);
            PyErr_SetString(PyExc_RuntimeError, "gather: the data changed while it was read");
        }
    }
done:
    free(pick);
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&which);
    return out;
}

static PyMethodDef methods[] = {
    {"kept", kept, METH_VARARGS, "Records of the columns and properties of chosen clean lines."},
    {"gather", gather, METH_VARARGS, "Chosen lines of a buffer, each ending in a newline."},
    {"scan", scan, METH_VARARGS, "Scan whole JSON lines; see the file's comment."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_linescan", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__linescan(void) {
    const uint32_t probe = 1;
    uint8_t first;
    memcpy(&first, &probe, 1);
    if (first != 1) { /* a big-endian host: see the #error above */
        PyErr_SetString(PyExc_ImportError, "compiler._linescan needs a little-endian host");
        return NULL;
    }
    return PyModule_Create(&module);
}
