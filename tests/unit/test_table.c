/* SPDX-License-Identifier: MIT */
/*
 * test_table.c: the table source ("source = table") end to end through
 * af_pipeline_run on MPI_COMM_WORLD (one process, no launcher), on small tables
 * written here: per-year {year} files, per-sample {id} files (a sample without
 * a file is all missing), one file in random date order (same result as
 * sorted), the missing marker and empty fields, a QC column, match = county
 * (one value shared by every scenario), applies_to, and unit conversion.
 * Results are read back with af_index_read + af_shard_read_row and compared
 * with values computed here from the same text. Then the error paths, each of
 * which must leave no index.json in the output directory.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "af_test.h"
#include "af_util.h"
#include "agroflux/index.h"
#include "agroflux/log.h"
#include "agroflux/output.h"
#include "agroflux/pipeline.h"
#include "fixture_files.h"

/* ---- the data: 2003-12-29 .. 2004-01-03 (6 days), t = day index ---- */

#define NDAYS 6
static const char *const day_text[NDAYS] = { "2003-12-29", "2003-12-30", "2003-12-31",
                                             "2004-01-01", "2004-01-02", "2004-01-03" };

/* Sample ids and their codes in the target table (1..6). */
static const char *const sample_ids[6] = { "19001:A", "19001:B", "19003:A", "19003:B", "US-Aa1", "US-Bb2" };

/* Weather keys: county FIPS (shared by both scenarios) and one site; US-Bb2 has no rows. */
static const char *const weather_keys[3] = { "19001", "19003", "US-Aa1" };
static int weather_code(const char *key)
{
    if (!strcmp(key, "19001")) return 1;
    if (!strcmp(key, "19003")) return 3;
    if (!strcmp(key, "US-Aa1")) return 5;
    return 0;
}

static void tmax_text(int wc, int t, char *buf, size_t n) { snprintf(buf, n, "%.2f", 270.0 + wc + 0.5 * t); }
static void prcp_text(int wc, int t, char *buf, size_t n)
{
    if (wc == 3 && t == 1) snprintf(buf, n, "-99");     /* the declared marker */
    else if (wc == 1 && t == 2) snprintf(buf, n, "%s", ""); /* an empty field */
    else if (wc == 3 && t == 3) snprintf(buf, n, "-9999.0"); /* a sentinel, whatever the declared marker */
    else snprintf(buf, n, "%.3f", 0.1 * wc + 0.01 * t);
}
static void nee_text(int c, int t, char *buf, size_t n)
{
    if (c == 4 && t == 3) snprintf(buf, n, "-9999"); /* default marker */
    else if (c == 2 && t == 1) snprintf(buf, n, "-6.999e3"); /* the other sentinel, another spelling */
    else snprintf(buf, n, "%.3f", -(double)c - 0.1 * t);
}
static void qc_text(int c, int t, char *buf, size_t n)
{
    if (c == 1 && t == 0) snprintf(buf, n, "%s", "");
    else snprintf(buf, n, "%.2f", ((c + t) % 5) / 4.0);
}
static void n2o_text(int c, int t, char *buf, size_t n) { snprintf(buf, n, "%.2f", 10.0 * c + t); }
static void gpp_text(int c, int t, char *buf, size_t n) { snprintf(buf, n, "%.2f", c + 0.5 * t); }
static void soc_text(int c, int t, char *buf, size_t n) { snprintf(buf, n, "%.2f", 1.5 + 0.1 * c + 0.01 * t); }
/* Samples with a soil/{id}.csv file. */
static int has_soil(int c) { return c == 1 || c == 4 || c == 5; }

static double num(const char *text) { return text[0] ? strtod(text, NULL) : NAN; }

/* ---- a growable text buffer ---- */
typedef struct sbuf {
    char *p;
    size_t len;
    FILE *fp;
} sbuf;
static void sb_open(sbuf *b) { b->p = NULL; b->len = 0; b->fp = open_memstream(&b->p, &b->len); }
static const char *sb_close(sbuf *b) { fclose(b->fp); return b->p; }

static void write_weather(void)
{
    for (int y = 2003; y <= 2004; y++) {
        sbuf b;
        sb_open(&b);
        fprintf(b.fp, "id,date,tmin,tmax,prcp\n");
        if (y == 2003) fprintf(b.fp, "19001,2003-06-01,1,2,3\n"); /* outside the axis */
        for (int t = 0; t < NDAYS; t++) {
            if (atoi(day_text[t]) != y) continue;
            for (int k = 0; k < 3; k++) {
                char a[32], c[32];
                int wc = weather_code(weather_keys[k]);
                tmax_text(wc, t, a, sizeof a);
                prcp_text(wc, t, c, sizeof c);
                fprintf(b.fp, "%s,%s,%d,%s,%s\n", weather_keys[k], day_text[t], 260 + t, a, c);
            }
            fprintf(b.fp, "19999,%s,0,zzz,zzz\n", day_text[t]); /* a county not in the set: never parsed */
        }
        char name[64];
        snprintf(name, sizeof name, "weather_%d.csv", y);
        fx_write(name, sb_close(&b));
        free(b.p);
    }
}

/* targets.csv, sorted by date, or the same rows in a fixed pseudo-random order. */
static void write_targets(const char *name, int shuffled)
{
    char rows[NDAYS * 6][160];
    int n = 0;
    for (int t = 0; t < NDAYS; t++)
        for (int c = 1; c <= 6; c++) {
            char nee[32], qc[32], n2o[32], gpp[32];
            nee_text(c, t, nee, sizeof nee);
            qc_text(c, t, qc, sizeof qc);
            n2o_text(c, t, n2o, sizeof n2o);
            gpp_text(c, t, gpp, sizeof gpp);
            snprintf(rows[n++], sizeof rows[0], "%s,%s,%s,%s,%s,%s\n", gpp, day_text[t], sample_ids[c - 1], nee, qc,
                     n2o);
        }
    if (shuffled) {
        unsigned s = 12345u;
        for (int i = n - 1; i > 0; i--) {
            s = s * 1103515245u + 12345u;
            int j = (int)((s >> 16) % (unsigned)(i + 1));
            char tmp[160];
            memcpy(tmp, rows[i], sizeof tmp);
            memcpy(rows[i], rows[j], sizeof tmp);
            memcpy(rows[j], tmp, sizeof tmp);
        }
    }
    sbuf b;
    sb_open(&b);
    /* columns in an unusual order, upper-case names (lookup is case-insensitive) */
    fprintf(b.fp, "GPP,Date,ID,nee,nee_qc,n2o\n");
    for (int i = 0; i < n; i++) fputs(rows[i], b.fp);
    fx_write(name, sb_close(&b));
    free(b.p);
}

static void write_soil(void)
{
    for (int c = 1; c <= 6; c++) {
        if (!has_soil(c)) continue;
        sbuf b;
        sb_open(&b);
        fprintf(b.fp, "id,date,soc\n");
        for (int t = NDAYS - 1; t >= 0; t--) { /* descending dates: unsorted too */
            char v[32];
            soc_text(c, t, v, sizeof v);
            fprintf(b.fp, "%s,%s,%s\n", sample_ids[c - 1], day_text[t], v);
        }
        char name[64];
        snprintf(name, sizeof name, "soil/%s.csv", sample_ids[c - 1]);
        for (char *q = name; *q; q++)
            if (*q == ':') *q = '_'; /* {id} writes FIPS:SCENARIO as FIPS_SCENARIO */
        fx_write(name, sb_close(&b));
        free(b.p);
    }
}

static const char main_ini[] =
    "[pipeline]\n"
    "name = tabletest\n"
    "start = 2003-12-29\n"
    "end = 2004-01-03\n"
    "output = %s\n"
    "shard_samples = 4\n"
    "block_days = %d\n"
    "\n"
    "[counties]\n"
    "layer = counties.geojson\n"
    "id_field = GEOID\n"
    "scenarios = A, B\n"
    "\n"
    "[sites]\n"
    "list = sites.csv\n"
    "\n"
    "[input.TMAX]\n"
    "source = table\n"
    "path = weather_{year}.csv\n"
    "column = tmax\n"
    "source_units = K\n"
    "units = degC\n"
    "match = county\n"
    "missing = -99\n"
    "\n"
    "[target.NEE]\n"
    "source = table\n"
    "path = %s\n"
    "column = nee\n"
    "qc_column = nee_qc\n"
    "source_units = umol CO2 m-2 s-1 (daily mean)\n"
    "units = g C m-2 d-1\n"
    "\n"
    "[input.PRCP]\n"
    "source = table\n"
    "path = weather_{year}.csv\n"
    "column = prcp\n"
    "source_units = cm\n"
    "units = mm d-1\n"
    "match = county\n"
    "missing = -99\n"
    "\n"
    "[target.N2O]\n"
    "source = table\n"
    "path = %s\n"
    "column = n2o\n"
    "source_units = g N ha-1 d-1\n"
    "units = g N m-2 d-1\n"
    "applies_to = counties\n"
    "\n"
    "[input.SOC]\n"
    "source = table\n"
    "path = soil/{id}.csv\n"
    "source_units = %%\n"
    "units = g kg-1\n"
    "\n"
    "[target.GPP]\n"
    "source = table\n"
    "path = %s\n"
    "source_units = g C m-2 d-1\n"
    "units = g C m-2 d-1\n"
    "applies_to = sites\n";

/* Run a pipeline file (already written); returns the status and fills *e. */
static int run_pipeline(const char *ini_name, af_error *e)
{
    af_run_summary s;
    af_error_clear(e);
    int rc = af_pipeline_run(MPI_COMM_WORLD, fx_path(ini_name), NULL, &s, e);
    af_run_summary_dispose(&s);
    return rc;
}

static int index_exists(const char *outdir)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/index.json", outdir);
    return access(p, F_OK) == 0;
}

/* Exact for values that went through the same double arithmetic; tiny slack otherwise. */
static int same(float got, double want)
{
    if (isnan(want)) return isnan(got);
    float w = (float)want;
    return !isnan(got) && fabsf(got - w) <= 1e-6f * (fabsf(w) > 1 ? fabsf(w) : 1);
}

static int code_of(const char *id)
{
    for (int c = 1; c <= 6; c++)
        if (!strcmp(sample_ids[c - 1], id)) return c;
    return 0;
}

static int find_var(const af_var_desc *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) return (int)i;
    return -1;
}

/* Check every cell of an output against the functions above. */
static void check_output(const char *outdir)
{
    af_index idx;
    memset(&idx, 0, sizeof idx);
    AF_TEST_PASS(af_index_read(outdir, &idx, err));
    if (idx.nsamples == 0) return;
    AF_EXPECT(idx.nsamples == 6);
    AF_EXPECT(idx.ndays == NDAYS);
    AF_EXPECT(idx.nshards == 2);
    AF_EXPECT(idx.shard_samples == 4);
    AF_EXPECT(idx.ninputs == 3 && idx.ntargets == 3);
    if (idx.ninputs != 3 || idx.ntargets != 3 || idx.nsamples != 6) { af_index_dispose(&idx); return; }
    /* file order of each role */
    AF_EXPECT(!strcmp(idx.inputs[0].name, "TMAX") && !strcmp(idx.inputs[1].name, "PRCP") &&
              !strcmp(idx.inputs[2].name, "SOC"));
    AF_EXPECT(!strcmp(idx.targets[0].name, "NEE") && !strcmp(idx.targets[1].name, "N2O") &&
              !strcmp(idx.targets[2].name, "GPP"));
    AF_EXPECT(!strcmp(idx.inputs[0].units, "degC") && !strcmp(idx.inputs[0].source_units, "K"));
    AF_EXPECT(!strcmp(idx.targets[1].units, "g N m-2 d-1") && !strcmp(idx.targets[1].source_units, "g N ha-1 d-1"));
    int iT = find_var(idx.inputs, 3, "TMAX"), iP = find_var(idx.inputs, 3, "PRCP"), iS = find_var(idx.inputs, 3, "SOC");
    int jN = find_var(idx.targets, 3, "NEE"), jO = find_var(idx.targets, 3, "N2O"), jG = find_var(idx.targets, 3, "GPP");
    float x[NDAYS * 3], y[NDAYS * 3], yqc[NDAYS * 3];
    unsigned char yv[NDAYS * 3];
    int bad = 0, seen = 0;
    for (size_t s = 0; s < idx.nsamples; s++) {
        const af_sample *sm = &idx.samples[s];
        int c = code_of(sm->id);
        AF_EXPECT(c != 0);
        if (!c) continue;
        seen |= 1 << c;
        size_t shard = s / idx.shard_samples, row = s % idx.shard_samples;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", outdir, idx.shards[shard].path);
        AF_TEST_PASS(af_shard_read_row(path, row, x, NULL, y, yv, yqc, err));
        int county = sm->kind == AF_SAMPLE_COUNTY;
        int wc = weather_code(county ? sm->fips : sm->id);
        for (int t = 0; t < NDAYS; t++) {
            char a[32];
            double want[6];
            /* inputs */
            if (wc) { tmax_text(wc, t, a, sizeof a); want[0] = num(a) - 273.15; }
            else want[0] = NAN;
            if (wc) { prcp_text(wc, t, a, sizeof a); want[1] = (!a[0] || !strcmp(a, "-99") || num(a) == -9999) ? NAN : num(a) * 10.0; }
            else want[1] = NAN;
            if (has_soil(c)) { soc_text(c, t, a, sizeof a); want[2] = num(a) * 10.0; }
            else want[2] = NAN;
            /* targets */
            nee_text(c, t, a, sizeof a);
            want[3] = (num(a) == -9999 || num(a) == -6999) ? NAN : num(a) * 1.03772448;
            n2o_text(c, t, a, sizeof a);
            want[4] = county ? num(a) * 1e-4 : NAN;
            gpp_text(c, t, a, sizeof a);
            want[5] = county ? NAN : num(a);
            float got[6] = { x[t * 3 + iT], x[t * 3 + iP], x[t * 3 + iS], y[t * 3 + jN], y[t * 3 + jO], y[t * 3 + jG] };
            static const char *const names[6] = { "TMAX", "PRCP", "SOC", "NEE", "N2O", "GPP" };
            for (int k = 0; k < 6; k++) {
                if (!same(got[k], want[k])) {
                    if (bad++ < 8)
                        fprintf(stderr, "  %s %s %s: got %.9g want %.9g\n", sm->id, day_text[t], names[k], got[k],
                                want[k]);
                }
                if (k >= 3) {
                    int j = k == 3 ? jN : k == 4 ? jO : jG;
                    if (yv[t * 3 + j] != (isnan(want[k]) ? 0 : 1)) {
                        if (bad++ < 8)
                            fprintf(stderr, "  %s %s %s: y_valid %d\n", sm->id, day_text[t], names[k], yv[t * 3 + j]);
                    }
                }
            }
            /* QC: NEE has a QC column (empty -> NaN); the others have none */
            if (!isnan(want[3])) {
                qc_text(c, t, a, sizeof a);
                if (!same(yqc[t * 3 + jN], num(a))) {
                    if (bad++ < 8) fprintf(stderr, "  %s %s qc: got %g want %s\n", sm->id, day_text[t], yqc[t * 3 + jN], a);
                }
            }
            if (!isnan(yqc[t * 3 + jO]) || !isnan(yqc[t * 3 + jG])) {
                if (bad++ < 8) fprintf(stderr, "  %s %s: qc where the source has none\n", sm->id, day_text[t]);
            }
        }
        /* match = county: both scenarios of a county carry identical weather */
        if (county) {
            float x2[NDAYS * 3];
            for (size_t o = 0; o < idx.nsamples; o++) {
                if (o == s || idx.samples[o].kind != AF_SAMPLE_COUNTY || strcmp(idx.samples[o].fips, sm->fips)) continue;
                char p2[1400];
                snprintf(p2, sizeof p2, "%s/%s", outdir, idx.shards[o / idx.shard_samples].path);
                AF_TEST_PASS(af_shard_read_row(p2, o % idx.shard_samples, x2, NULL, NULL, NULL, NULL, err));
                for (int t = 0; t < NDAYS; t++)
                    if (memcmp(&x2[t * 3 + iT], &x[t * 3 + iT], sizeof(float)) ||
                        memcmp(&x2[t * 3 + iP], &x[t * 3 + iP], sizeof(float)))
                        bad++;
            }
        }
    }
    AF_EXPECT(seen == 0x7e);
    AF_EXPECT(bad == 0);
    af_index_dispose(&idx);
}

static void write_main(const char *ini, const char *out, const char *targets, int block)
{
    char text[4096];
    snprintf(text, sizeof text, main_ini, out, block, targets, targets, targets);
    fx_write(ini, text);
}

static void test_sorted(void)
{
    write_main("sorted.ini", "out_sorted", "targets_sorted.csv", 4);
    AF_TEST_PASS(run_pipeline("sorted.ini", err));
    check_output(fx_path("out_sorted"));
}

static void test_unsorted(void)
{
    write_main("shuffled.ini", "out_shuffled", "targets_shuffled.csv", 4);
    AF_TEST_PASS(run_pipeline("shuffled.ini", err));
    check_output(fx_path("out_shuffled"));
    /* same cells as the sorted run, row by row */
    af_index a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    AF_TEST_PASS(af_index_read(fx_path("out_sorted"), &a, err));
    AF_TEST_PASS(af_index_read(fx_path("out_shuffled"), &b, err));
    AF_EXPECT(a.nsamples == b.nsamples && a.nsamples == 6);
    for (size_t s = 0; s < a.nsamples && s < b.nsamples; s++) {
        AF_EXPECT(!strcmp(a.samples[s].id, b.samples[s].id));
        float xa[NDAYS * 3], ya[NDAYS * 3], qa[NDAYS * 3], xb[NDAYS * 3], yb[NDAYS * 3], qb[NDAYS * 3];
        unsigned char va[NDAYS * 3], vb[NDAYS * 3];
        char pa[1400], pb[1400];
        snprintf(pa, sizeof pa, "%s/%s", fx_path("out_sorted"), a.shards[s / a.shard_samples].path);
        snprintf(pb, sizeof pb, "%s/%s", fx_path("out_shuffled"), b.shards[s / b.shard_samples].path);
        AF_TEST_PASS(af_shard_read_row(pa, s % a.shard_samples, xa, NULL, ya, va, qa, err));
        AF_TEST_PASS(af_shard_read_row(pb, s % b.shard_samples, xb, NULL, yb, vb, qb, err));
        AF_EXPECT(!memcmp(xa, xb, sizeof xa) && !memcmp(ya, yb, sizeof ya) && !memcmp(va, vb, sizeof va) &&
                  !memcmp(qa, qb, sizeof qa));
    }
    af_index_dispose(&a);
    af_index_dispose(&b);
}

static void test_block_sizes(void)
{
    /* one day per block, and one block for everything: same cells */
    write_main("block1.ini", "out_block1", "targets_sorted.csv", 1);
    AF_TEST_PASS(run_pipeline("block1.ini", err));
    check_output(fx_path("out_block1"));
    write_main("block366.ini", "out_block366", "targets_shuffled.csv", 366);
    AF_TEST_PASS(run_pipeline("block366.ini", err));
    check_output(fx_path("out_block366"));
}

static void test_noleap(void)
{
    /* Dec 31 of a leap year is dropped by noleap: its rows are skipped, the axis has 2 days */
    fx_write("nl.csv", "id,date,V\nUS-Aa1,2004-12-30,1\nUS-Aa1,2004-12-31,2\nUS-Aa1,2005-01-01,3\n"
                       "US-Bb2,2005-01-01,4\n");
    fx_write("nl.ini", "[pipeline]\nname = nl\nstart = 2004-12-30\nend = 2005-01-01\ncalendar = noleap\n"
                       "output = out_nl\n[sites]\nlist = sites.csv\n"
                       "[target.V]\nsource = table\npath = nl.csv\nsource_units = kg N ha-1 d-1\n"
                       "units = g N m-2 d-1\n");
    AF_TEST_PASS(run_pipeline("nl.ini", err));
    af_index idx;
    memset(&idx, 0, sizeof idx);
    AF_TEST_PASS(af_index_read(fx_path("out_nl"), &idx, err));
    AF_EXPECT(idx.ndays == 2 && idx.nsamples == 2 && !strcmp(idx.calendar, "noleap"));
    for (size_t s = 0; s < idx.nsamples && idx.ndays == 2; s++) {
        float y[2];
        unsigned char v[2];
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", fx_path("out_nl"), idx.shards[0].path);
        AF_TEST_PASS(af_shard_read_row(p, s, NULL, NULL, y, v, NULL, err));
        if (!strcmp(idx.samples[s].id, "US-Aa1")) {
            AF_EXPECT(same(y[0], 1 * 0.1) && same(y[1], 3 * 0.1) && v[0] == 1 && v[1] == 1);
        } else {
            AF_EXPECT(isnan(y[0]) && v[0] == 0 && same(y[1], 4 * 0.1) && v[1] == 1);
        }
    }
    af_index_dispose(&idx);
}

/* ---- error paths: a sites-only pipeline over 2003-01-01..05 (5 days, blocks of 2) ---- */

static const char err_ini[] =
    "[pipeline]\n"                 /* 1 */
    "name = err\n"                 /* 2 */
    "start = %s\n"                 /* 3 */
    "end = %s\n"                   /* 4 */
    "output = %s\n"                /* 5 */
    "block_days = 2\n"             /* 6 */
    "[sites]\n"                    /* 7 */
    "list = sites.csv\n"           /* 8 */
    "[target.V]\n"                 /* 9 */
    "source = table\n"             /* 10 */
    "path = %s\n"                  /* 11 */
    "source_units = %s\n"          /* 12 */
    "units = g C m-2 d-1\n";       /* 13 */

/* Rows: for d = 1..5, US-Aa1 then US-Bb2, value d*10+k (line = 2 + 2*(d-1) + k). */
static const char *err_table(const char *name, const char *header, int bad_line, const char *bad_row)
{
    sbuf b;
    sb_open(&b);
    fprintf(b.fp, "%s\n", header);
    int line = 2;
    for (int d = 1; d <= 5; d++)
        for (int k = 0; k < 2; k++) {
            if (line == bad_line) { fprintf(b.fp, "%s\n", bad_row); line++; }
            fprintf(b.fp, "%s,2003-01-%02d,%d\n", k ? "US-Bb2" : "US-Aa1", d, d * 10 + k);
            line++;
        }
    if (line == bad_line) fprintf(b.fp, "%s\n", bad_row); /* after the last row */
    const char *p = fx_write(name, sb_close(&b));
    free(b.p);
    return p;
}

static void expect_run_fails(int srcline, const char *tag, const char *start, const char *end, const char *path,
                             const char *units, int code, ...)
{
    char ini[64], out[64], text[2048];
    snprintf(ini, sizeof ini, "%s.ini", tag);
    snprintf(out, sizeof out, "out_%s", tag);
    snprintf(text, sizeof text, err_ini, start, end, out, path, units);
    fx_write(ini, text);
    af_error e = AF_ERROR_INIT;
    int rc = run_pipeline(ini, &e);
    if (rc != code) {
        fprintf(stderr, "%s:%d: %s: returned %s, expected %s (msg: %s)\n", __FILE__, srcline, tag, af_status_name(rc),
                af_status_name(code), e.msg);
        af_test_case_failed = 1;
    }
    va_list ap;
    va_start(ap, code);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
        if (!strstr(e.msg, n)) {
            fprintf(stderr, "%s:%d: %s: message '%s' lacks '%s'\n", __FILE__, srcline, tag, e.msg, n);
            af_test_case_failed = 1;
        }
    va_end(ap);
    if (index_exists(fx_path(out))) {
        fprintf(stderr, "%s:%d: %s: failed run left %s/index.json\n", __FILE__, srcline, tag, fx_path(out));
        af_test_case_failed = 1;
    }
}

#define RUN_FAILS(tag, start, end, path, units, code, ...) \
    expect_run_fails(__LINE__, tag, start, end, path, units, code, __VA_ARGS__, (const char *)NULL)

static const char *at(const char *name, int line)
{
    static char buf[8][1200];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s:%d:", fx_path(name), line);
    return buf[k];
}

static void test_error_good_baseline(void)
{
    /* the error template itself works */
    err_table("ok.csv", "id,date,V", 0, "");
    char text[2048];
    snprintf(text, sizeof text, err_ini, "2003-01-01", "2003-01-05", "out_ok", "ok.csv", "g C m-2 d-1");
    fx_write("ok.ini", text);
    AF_TEST_PASS(run_pipeline("ok.ini", err));
    AF_EXPECT(index_exists(fx_path("out_ok")));
}

static void test_duplicate_rows(void)
{
    /* sorted file: the duplicate of (US-Bb2, 2003-01-04) is line 10, in the second block (after a seek) */
    err_table("dup.csv", "id,date,V", 10, "US-Bb2,2003-01-04,99");
    RUN_FAILS("dup", "2003-01-01", "2003-01-05", "dup.csv", "g C m-2 d-1", AF_EFORMAT, at("dup.csv", 10),
              "duplicate", "US-Bb2", "2003-01-04");
    /* unsorted file: a row for day 1 at the end duplicates line 2 */
    err_table("dup2.csv", "id,date,V", 12, "US-Aa1,2003-01-01,5");
    RUN_FAILS("dup2", "2003-01-01", "2003-01-05", "dup2.csv", "g C m-2 d-1", AF_EFORMAT, at("dup2.csv", 12),
              "duplicate", "US-Aa1");
    /* the duplicate of a day in the first block */
    err_table("dup3.csv", "id,date,V", 3, "US-Aa1,2003-01-01,5");
    RUN_FAILS("dup3", "2003-01-01", "2003-01-05", "dup3.csv", "g C m-2 d-1", AF_EFORMAT, at("dup3.csv", 3),
              "duplicate");
}

static void test_bad_values(void)
{
    /* a non-numeric value for a cell in the second block of a sorted file (read after a seek) */
    sbuf b;
    sb_open(&b);
    fprintf(b.fp, "id,date,V\n");
    fprintf(b.fp, "US-Aa1,2003-01-01,1\nUS-Bb2,2003-01-01,2\n");
    fprintf(b.fp, "US-Aa1,2003-01-02,1\nUS-Bb2,2003-01-02,2\n");
    fprintf(b.fp, "US-Aa1,2003-01-03,1\nUS-Bb2,2003-01-03,12.5kg\n"); /* line 7 */
    fx_write("nonnum.csv", sb_close(&b));
    free(b.p);
    RUN_FAILS("nonnum", "2003-01-01", "2003-01-05", "nonnum.csv", "g C m-2 d-1", AF_EFORMAT, at("nonnum.csv", 7),
              "'V'", "12.5kg");
    /* QC outside 0..1 */
    sb_open(&b);
    fprintf(b.fp, "id,date,V,q\nUS-Aa1,2003-01-01,1,0.5\nUS-Bb2,2003-01-01,2,1.5\n");
    fx_write("qc.csv", sb_close(&b));
    free(b.p);
    char text[2048];
    snprintf(text, sizeof text, err_ini, "2003-01-01", "2003-01-05", "out_qc", "qc.csv", "g C m-2 d-1");
    strcat(text, "qc_column = q\n");
    fx_write("qc.ini", text);
    af_error e = AF_ERROR_INIT;
    AF_EXPECT(run_pipeline("qc.ini", &e) == AF_EFORMAT);
    AF_EXPECT(strstr(e.msg, at("qc.csv", 3)) != NULL);
    AF_EXPECT(!index_exists(fx_path("out_qc")));
}

static void test_bad_date(void)
{
    err_table("date.csv", "id,date,V", 4, "US-Aa1,2003-02-30,1");
    RUN_FAILS("date", "2003-01-01", "2003-01-05", "date.csv", "g C m-2 d-1", AF_EFORMAT, at("date.csv", 4),
              "2003-02-30", "'date'");
    err_table("date2.csv", "id,date,V", 6, "US-Aa1,03/01/2003,1");
    RUN_FAILS("date2", "2003-01-01", "2003-01-05", "date2.csv", "g C m-2 d-1", AF_EFORMAT, at("date2.csv", 6),
              "03/01/2003");
}

static void test_missing_column(void)
{
    err_table("nocol.csv", "id,date,W", 0, "");
    RUN_FAILS("nocol", "2003-01-01", "2003-01-05", "nocol.csv", "g C m-2 d-1", AF_ENOTFOUND, "'V'",
              fx_path("nocol.csv"));
    err_table("noid.csv", "site,date,V", 0, "");
    RUN_FAILS("noid", "2003-01-01", "2003-01-05", "noid.csv", "g C m-2 d-1", AF_ENOTFOUND, "'id'",
              fx_path("noid.csv"));
}

static void test_units_error(void)
{
    err_table("u.csv", "id,date,V", 0, "");
    RUN_FAILS("units", "2003-01-01", "2003-01-05", "u.csv", "furlongs", AF_EUNITS, at("units.ini", 12), "furlongs",
              "source_units");
    RUN_FAILS("units2", "2003-01-01", "2003-01-05", "u.csv", "K", AF_EUNITS, at("units2.ini", 12), "'K'",
              "'g C m-2 d-1'");
}

static void test_missing_files(void)
{
    fx_write("y_2003.csv", "id,date,V\nUS-Aa1,2003-12-31,1\n");
    RUN_FAILS("year", "2003-12-30", "2004-01-02", "y_{year}.csv", "g C m-2 d-1", AF_ENOTFOUND, fx_path("y_2004.csv"),
              "2004");
    RUN_FAILS("single", "2003-01-01", "2003-01-05", "nope.csv", "g C m-2 d-1", AF_ENOTFOUND, fx_path("nope.csv"),
              at("single.ini", 11));
}

static void test_short_rows(void)
{
    /* a short row, and a file cut in the middle of its last row: errors, not silent gaps */
    err_table("short.csv", "id,date,V", 5, "US-Aa1,2003-01-02");
    RUN_FAILS("short", "2003-01-01", "2003-01-05", "short.csv", "g C m-2 d-1", AF_EFORMAT, at("short.csv", 5),
              "2 fields, the header has 3");
    fx_write("cut.csv", "id,date,V\nUS-Aa1,2003-01-01,1\nUS-Bb2,2003-01-01,2\nUS-Aa1,2003-01-02,1\nUS-Bb2,2003-");
    RUN_FAILS("cut", "2003-01-01", "2003-01-05", "cut.csv", "g C m-2 d-1", AF_EFORMAT, at("cut.csv", 5),
              "2 fields, the header has 3", "ends in the middle of this row");
}

static void test_failed_rerun_keeps_previous(void)
{
    /* a good run, then a run that fails while reading into the same directory: the first output stays
     * published, byte for byte (the rerun wrote beside it) */
    err_table("rr.csv", "id,date,V", 0, "");
    char text[2048];
    snprintf(text, sizeof text, err_ini, "2003-01-01", "2003-01-05", "out_rerun", "rr.csv", "g C m-2 d-1");
    fx_write("rerun.ini", text);
    AF_TEST_PASS(run_pipeline("rerun.ini", err));
    AF_EXPECT(index_exists(fx_path("out_rerun")));
    err_table("rr.csv", "id,date,V", 10, "US-Bb2,2003-01-04,99");
    char ipath[1200], *before = NULL, *after = NULL;
    snprintf(ipath, sizeof ipath, "%s/index.json", fx_path("out_rerun"));
    AF_TEST_PASS(af_read_file(ipath, &before, NULL, err));
    af_error e = AF_ERROR_INIT;
    AF_EXPECT(run_pipeline("rerun.ini", &e) == AF_EFORMAT);
    AF_TEST_PASS(af_read_file(ipath, &after, NULL, err));
    AF_EXPECT(before && after && !strcmp(before, after));
    AF_EXPECT(!index_exists(fx_path("out_rerun.agroflux-next")));
    free(before);
    free(after);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    af_log_set_sink(NULL, AF_LOG_ERROR, NULL);
    if (fx_setup("table") != 0) {
        MPI_Finalize();
        return 1;
    }
    write_weather();
    write_targets("targets_sorted.csv", 0);
    write_targets("targets_shuffled.csv", 1);
    write_soil();
    AF_RUN(test_sorted);
    AF_RUN(test_unsorted);
    AF_RUN(test_block_sizes);
    AF_RUN(test_noleap);
    AF_RUN(test_error_good_baseline);
    AF_RUN(test_duplicate_rows);
    AF_RUN(test_bad_values);
    AF_RUN(test_bad_date);
    AF_RUN(test_missing_column);
    AF_RUN(test_units_error);
    AF_RUN(test_missing_files);
    AF_RUN(test_short_rows);
    AF_RUN(test_failed_rerun_keeps_previous);
    if (!getenv("AF_KEEP_TMP")) fx_rmtree(fx_tmp);
    else fprintf(stderr, "kept %s\n", fx_tmp);
    int rc = AF_TEST_END();
    MPI_Finalize();
    return rc;
}
