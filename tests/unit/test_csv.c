/* SPDX-License-Identifier: MIT */
/*
 * test_csv.c: the CSV reader of af_util.h (src/util/csv.c) on hand-written
 * bytes: quotes and doubled quotes, trimming, CRLF / LF / lone-CR record ends,
 * blank and '#' lines, the header copy (BOM dropped), column lookup, re-reading
 * from af_csv_tell, and every AF_EFORMAT path, including the NUL byte the fuzzer
 * found silently cutting a record short.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_test.h"
#include "af_util.h"

static char tmpdir[] = "/tmp/af_csv_XXXXXX";

/* Write len bytes (they may hold NUL) to tmpdir/name. */
static const char *put(const char *name, const char *bytes, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(bytes, 1, len, fp) != len) abort();
    fclose(fp);
    return path;
}

static int fields_are(const af_csv *csv, int n, const char *const *want)
{
    if (csv->nfields != n) return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(csv->fields[i], want[i])) return 0;
    return 1;
}

static void test_records(void)
{
    static const char text[] = "\xEF\xBB\xBF" "id,\"name, quoted\" ,\"say \"\"hi\"\"\"\r\n"
                               "\r\n# a comment\n1,\"a,b\",x\r2 ,  ,\"\"\n";
    af_csv csv;
    AF_TEST_PASS(af_csv_open(put("a.csv", text, sizeof text - 1), &csv, err));
    csv.skip_comments = 1;
    AF_TEST_PASS(af_csv_read_header(&csv, err));
    static const char *const h[] = { "id", "name, quoted", "say \"hi\"" };
    AF_EXPECT(csv.nheader == 3 && csv.header_line == 1);
    AF_EXPECT(csv.nheader == 3 && !strcmp(csv.header[0], "id") && !strcmp(csv.header[1], h[1]) &&
              !strcmp(csv.header[2], h[2]));
    AF_EXPECT(af_csv_column(&csv, "NAME, QUOTED") == 1 && af_csv_column(&csv, "nonesuch") == -1);
    int col = -1;
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "a.csv:1: no column 'date' in header", af_csv_require_column(&csv, "date", &col, err));
    long at = af_csv_tell(&csv), line = csv.line;
    static const char *const r1[] = { "1", "a,b", "x" }, *const r2[] = { "2", "", "" };
    AF_EXPECT(af_csv_next(&csv, NULL) == 1 && csv.line == 4 && fields_are(&csv, 3, r1));
    AF_EXPECT(af_csv_next(&csv, NULL) == 1 && csv.line == 5 && fields_are(&csv, 3, r2));
    AF_EXPECT(af_csv_next(&csv, NULL) == 0);
    /* a second pass from the remembered offset returns the same records and lines */
    AF_TEST_PASS(af_csv_seek(&csv, at, line, err));
    AF_EXPECT(af_csv_next(&csv, NULL) == 1 && csv.line == 4 && fields_are(&csv, 3, r1));
    af_csv_close(&csv);

    /* without skip_comments a '#' line is a record */
    AF_TEST_PASS(af_csv_open(put("a.csv", text, sizeof text - 1), &csv, err));
    AF_TEST_PASS(af_csv_read_header(&csv, err));
    static const char *const c1[] = { "# a comment" };
    AF_EXPECT(af_csv_next(&csv, NULL) == 1 && csv.line == 3 && fields_are(&csv, 1, c1));
    af_csv_close(&csv);
}

static void test_errors(void)
{
    af_csv csv;
    AF_TEST_PASS(af_csv_open(put("e.csv", "\n\n", 2), &csv, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "e.csv: empty file, expected a header line", af_csv_read_header(&csv, err));
    af_csv_close(&csv);
    AF_TEST_PASS(af_csv_open(put("e.csv", "a,b\n1,\"2\n", 9), &csv, err));
    AF_TEST_PASS(af_csv_read_header(&csv, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "e.csv:2: column 'b': unterminated quote", af_csv_next(&csv, err));
    af_csv_close(&csv);
    char wide[2 * AF_CSV_MAX_FIELDS + 2];
    memset(wide, ',', sizeof wide);
    wide[sizeof wide - 1] = '\n';
    AF_TEST_PASS(af_csv_open(put("e.csv", wide, sizeof wide), &csv, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "e.csv:1: more than 512 fields", af_csv_next(&csv, err));
    af_csv_close(&csv);
    /* a NUL byte (a zero-filled block after a crash) used to end the record there, silently */
    static const char nul[] = "date,v,w\n2003-01-01,1.5,2\n2003-01-02,2.5\0\0\0,3\n";
    AF_TEST_PASS(af_csv_open(put("e.csv", nul, sizeof nul - 1), &csv, err));
    AF_TEST_PASS(af_csv_read_header(&csv, err));
    AF_EXPECT(af_csv_next(&csv, NULL) == 1 && csv.nfields == 3);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "e.csv:3: NUL byte at column 15 (binary or corrupt file)", af_csv_next(&csv, err));
    af_csv_close(&csv);
    /* RFC 4180 quotes: a quote inside an unquoted field, or text after a closing quote, is an error naming
     * line and column (it used to be kept literally, or the text after the quote silently dropped) */
    static const char q1[] = "date,site,v\n2003-01-01,US-\"A\",1\n";
    AF_TEST_PASS(af_csv_open(put("e.csv", q1, sizeof q1 - 1), &csv, err));
    AF_TEST_PASS(af_csv_read_header(&csv, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "e.csv:2: column 'site': a double quote inside an unquoted field",
                       af_csv_next(&csv, err));
    af_csv_close(&csv);
    static const char q2[] = "date,site,v\n2003-01-01,\"US-A\"B,1\n";
    AF_TEST_PASS(af_csv_open(put("e.csv", q2, sizeof q2 - 1), &csv, err));
    AF_TEST_PASS(af_csv_read_header(&csv, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "e.csv:2: column 'site': text after the closing quote", af_csv_next(&csv, err));
    af_csv_close(&csv);
    static const char q3[] = "date,si\"te\n";
    AF_TEST_PASS(af_csv_open(put("e.csv", q3, sizeof q3 - 1), &csv, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "e.csv:1: field 2: a double quote inside an unquoted field",
                       af_csv_read_header(&csv, err));
    af_csv_close(&csv);
    /* white space around a quoted field is not part of it: "1, \"a,b\" ,x" is 1 | a,b | x */
    static const char q5[] = "a,b,c\n1, \"a,b\" ,x\n";
    static const char *const r5[] = { "1", "a,b", "x" };
    AF_TEST_PASS(af_csv_open(put("e.csv", q5, sizeof q5 - 1), &csv, err));
    AF_TEST_PASS(af_csv_read_header(&csv, err));
    AF_EXPECT(af_csv_next(&csv, NULL) == 1 && fields_are(&csv, 3, r5));
    af_csv_close(&csv);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "cannot open", af_csv_open("/nonexistent/x.csv", &csv, err));
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    AF_RUN(test_records);
    AF_RUN(test_errors);
    unlink(put("a.csv", "", 0));
    unlink(put("e.csv", "", 0));
    rmdir(tmpdir);
    return AF_TEST_END();
}
