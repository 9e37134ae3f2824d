/* SPDX-License-Identifier: MIT */
/*
 * fuzz_csv.c: libFuzzer harness for the CSV reader (src/util/csv.c): header,
 * every record, column lookup, and a second pass from af_csv_tell/af_csv_seek
 * (how the table source re-reads a block), with and without '#' comment lines.
 * Invariants: fields are trimmed and at most AF_CSV_MAX_FIELDS, line numbers
 * grow, and the second pass returns exactly the records of the first.
 */
#include <string.h>

#include "af_util.h"
#include "fuzz_common.h"

/* FNV-1a over a record's fields, so two passes can be compared cheaply. */
static unsigned long long hash_record(const af_csv *csv, unsigned long long h)
{
    for (int i = 0; i < csv->nfields; i++) {
        for (const char *p = csv->fields[i]; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0x1f) * 1099511628211ULL;
    }
    return (h ^ 0x1e) * 1099511628211ULL;
}

static void check_fields(const af_csv *csv)
{
    FZ_ASSERT(csv->nfields >= 1 && csv->nfields <= AF_CSV_MAX_FIELDS);
    for (int i = 0; i < csv->nfields; i++) {
        const char *f = csv->fields[i];
        size_t n = strlen(f);
        FZ_ASSERT(n == 0 || (!strchr(" \t\r\n", f[0]) && !strchr(" \t\r\n", f[n - 1])));
    }
}

static void one_pass(const char *path, int skip_comments)
{
    af_csv csv;
    af_error err = AF_ERROR_INIT;
    if (af_csv_open(path, &csv, &err) != AF_OK) return;
    csv.skip_comments = skip_comments;
    if (af_csv_read_header(&csv, &err) == AF_OK) {
        FZ_ASSERT(csv.nheader == csv.nfields && csv.header_line >= 1);
        int col = af_csv_column(&csv, csv.header[csv.nheader - 1]);
        FZ_ASSERT(col >= 0 && col < csv.nheader);
        af_csv_require_column(&csv, "date", &col, &err);
        long start = af_csv_tell(&csv), start_line = csv.line;
        unsigned long long h1 = 1469598103934665603ULL, h2 = h1;
        long n1 = 0, n2 = 0, last = csv.line;
        int got;
        while ((got = af_csv_next(&csv, &err)) == 1) {
            check_fields(&csv);
            FZ_ASSERT(csv.line > last);
            last = csv.line;
            h1 = hash_record(&csv, h1);
            n1++;
        }
        int end1 = got;
        long endline1 = csv.line;
        if (start >= 0 && af_csv_seek(&csv, start, start_line, &err) == AF_OK) {
            while ((got = af_csv_next(&csv, &err)) == 1) {
                h2 = hash_record(&csv, h2);
                n2++;
            }
            FZ_ASSERT(got == end1 && n1 == n2 && h1 == h2 && csv.line == endline1);
        }
    }
    af_csv_close(&csv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    fz_write("input.csv", data, size, path, sizeof path);
    one_pass(path, 0);
    one_pass(path, 1);
    return 0;
}
