/*
 * The one integer parser every layer uses for text it did not write: settings, launcher
 * variables, ports, topology attributes. Decimal by default, so "010" means ten (strtol's base
 * 0 would read it as eight); hexadecimal only where a caller allows it and then only with an
 * explicit "0x". The whole text must be the number.
 */
#ifndef BRAID_BASE_PARSE_H
#define BRAID_BASE_PARSE_H

#include <stdint.h>

/* Flags. */
#define BRAID_PARSE_HEX  0x1 /* "0x1f" is hexadecimal (anything else stays decimal) */
#define BRAID_PARSE_TRIM 0x2 /* spaces before and after the number are ignored */

/* What went wrong (0: nothing). */
enum braid_parse_status {
    BRAID_PARSE_OK = 0,
    BRAID_PARSE_MALFORMED = 1, /* empty, a stray character, a sign where none may be */
    BRAID_PARSE_RANGE = 2,     /* a number, but outside [min, max] */
};

/* Parses text as a signed integer in [min, max] into *out (untouched on failure). Pure. */
enum braid_parse_status braid__parse_i64(const char *text, int flags, int64_t min, int64_t max,
                                         int64_t *out);

/* The same for an unsigned 64-bit value (no sign allowed). */
enum braid_parse_status braid__parse_u64(const char *text, int flags, uint64_t *out);

#endif
