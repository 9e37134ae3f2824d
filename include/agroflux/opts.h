/* SPDX-License-Identifier: MIT */
/*
 * agroflux/opts.h: typed access to a section's keys, in the style of PETSc's
 * SetFromOptions. A getter takes the key's type, default, choices and list
 * syntax from its key table (af_key_spec), so no default is written anywhere
 * but the table: change it there and behaviour, `agroflux keys` and the docs
 * change together. The value is parsed here, once; a bad value is AF_ECONFIG
 * naming the pipeline file and line ("FILE:LINE: [SECTION] KEY: ..."; for an
 * --set override af_config_locate_error turns that into the --set argument).
 * An absent or empty value means the table default. A key the table does not
 * declare, or a getter of the wrong type for it, is AF_EINTERNAL (a bug).
 *
 * Lists (AF_KEY_LIST): items separated by commas; spaces and tabs around an
 * item are ignored (inside an item they stay); one trailing comma is ignored;
 * any other empty item (",a", "a,,b", "a, ,") is an error; an empty value is
 * the empty list. af_list_split is that one tokenizer, for every list key.
 * Not collective.
 */
#ifndef AGROFLUX_OPTS_H
#define AGROFLUX_OPTS_H

#include <stddef.h>
#include "agroflux/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed list value: n items, each a trimmed, non-empty, NUL-terminated string (owned). */
typedef struct af_list {
    char **items;
    size_t n;
} af_list;

#define AF_LIST_INIT { NULL, 0 }

/** Split text by the list rule above; AF_EINVAL "empty item in 'TEXT'" (no location). */
int af_list_split(const char *text, af_list *out, af_error *err);
void af_list_dispose(af_list *l);

/* Every getter: cfg and sec locate errors; table declares key (AF_EINTERNAL if not). */

/** AF_KEY_STRING (or any type, unparsed): the value, else the default, else NULL. Borrowed. */
int af_opts_get_string(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                       const char *key, const char **out, af_error *err);
/** AF_KEY_PATH, or a STRING key naming a file: resolved (af_config_resolve); "" when unset. */
int af_opts_get_path(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                     const char *key, char *out, size_t n, af_error *err);
/** AF_KEY_INT: a whole number (the range is the caller's). */
int af_opts_get_int(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                    const char *key, long *out, af_error *err);
/** AF_KEY_DOUBLE: a finite number. */
int af_opts_get_double(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                       const char *key, double *out, af_error *err);
/** AF_KEY_CHOICE: the position of the value in the key's choices ("a|b|c": 0, 1, 2). */
int af_opts_get_choice(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                       const char *key, int *out, af_error *err);
/** AF_KEY_CHOICE with choices "yes|no": 1 for yes, 0 for no. */
int af_opts_get_bool(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                     const char *key, int *out, af_error *err);
/** AF_KEY_LIST: the items (dispose with af_list_dispose; empty list when unset). */
int af_opts_get_list(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                     const char *key, af_list *out, af_error *err);

#ifdef __cplusplus
}
#endif
#endif
