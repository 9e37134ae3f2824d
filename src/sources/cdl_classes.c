/* SPDX-License-Identifier: MIT */
/*
 * cdl_classes.c: class lists of the cdl source: codes 0..255 or names from a
 * class table CSV (header code,name; e.g. 1,corn / 5,soybeans), resolved into
 * membership arrays. Pure apart from reading the table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/opts.h"
#include "cdl_impl.h"

int af__cdl_table_load(const char *path, cd_table *t, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    memset(&csv, 0, sizeof csv);
    memset(t, 0, sizeof *t);
    int cc, cn;
    AF_CHECK(af_csv_open(path, &csv, err));
    csv.skip_comments = 1;
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(af_csv_require_column(&csv, "code", &cc, err));
    AF_CHECK(af_csv_require_column(&csv, "name", &cn, err));
    for (;;) {
        rc = af_csv_next(&csv, err);
        if (rc < 0) goto cleanup;
        if (rc == 0) break;
        rc = AF_OK;
        long code;
        const char *cs = cc < csv.nfields ? csv.fields[cc] : "", *ns = cn < csv.nfields ? csv.fields[cn] : "";
        if (!af_parse_long(cs, &code) || code < 0 || code >= RZ_NCLASS)
            AF_FAIL(AF_EFORMAT, "%s:%ld: code '%s' is not a class code 0..%d", path, csv.line, cs, RZ_NCLASS - 1);
        if (!ns[0] || strlen(ns) >= sizeof t->name[0])
            AF_FAIL(AF_EFORMAT, "%s:%ld: class %ld: empty or too long name", path, csv.line, code);
        snprintf(t->name[code], sizeof t->name[0], "%s", ns);
    }
    t->loaded = 1;
cleanup:
    af_csv_close(&csv);
    return rc;
}

static int add_code(int code, unsigned char *in, int *list, size_t *n)
{
    if (in[code]) return 0;
    in[code] = 1;
    if (list) list[(*n)++] = code;
    return 1;
}

int af__cdl_resolve(const char *spec, const cd_table *t, unsigned char *in, int *list, size_t *n, af_error *err)
{
    int rc = AF_OK;
    memset(in, 0, RZ_NCLASS);
    if (n) *n = 0;
    af_list l = AF_LIST_INIT;
    AF_CHECK(af_list_split(spec, &l, err));
    size_t items = l.n;
    for (size_t i = 0; i < l.n; i++) {
        const char *item = l.items[i];
        long code;
        if (af_parse_long(item, &code)) {
            if (code < 0 || code >= RZ_NCLASS) AF_FAIL(AF_EINVAL, "class %ld is not a code 0..%d", code, RZ_NCLASS - 1);
            add_code((int)code, in, list, n);
        } else {
            int found = 0;
            for (int c = 0; t && t->loaded && c < RZ_NCLASS; c++)
                if (t->name[c][0] && !strcasecmp(t->name[c], item)) { add_code(c, in, list, n); found = 1; }
            if (!found)
                AF_FAIL(AF_EINVAL, "unknown class '%s'%s", item,
                        t && t->loaded ? " (not in class_table)" : " (a name needs class_table; or give the code)");
        }
    }
    if (!items) AF_FAIL(AF_EINVAL, "empty class list");
cleanup:
    af_list_dispose(&l);
    return rc;
}
