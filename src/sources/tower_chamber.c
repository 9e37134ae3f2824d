/* SPDX-License-Identifier: MIT */
/*
 * tower_chamber.c: N2O chamber CSVs of agroflux/tower.h (af_chamber_*): columns by
 * name, four declared flux units converted to g N m-2 h-1 at read time, hourly
 * binning and the KGML-ag daily rule (>= min_hours valid hours; mean x 24 ->
 * g N m-2 d-1, positive = emission). The sign flip is a separate function.
 * Not collective.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "af_check.h"
#include "af_util.h"
#include "tower_impl.h"

struct af_chamber_data {
    char path[512];
    int min_hours;
    int nchambers, idcap;
    char **ids;
    size_t nrec, cap;
    int *chamber;          /**< [nrec] chamber index */
    long long *minute;     /**< [nrec] epoch minutes */
    double *flux;          /**< [nrec] g N m-2 h-1, NaN if missing */
    long *line;            /**< [nrec] file line (duplicate check) */
    double *raw;           /**< [nrec] flux as written, in the declared unit (duplicate message) */
};

int af_chamber_unit_parse(const char *text, af_chamber_unit *out, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(text != NULL && out != NULL);
    if (!strcmp(text, "g N m-2 h-1")) *out = AF_CHAMBER_G_N_M2_H;
    else if (!strcmp(text, "nmol m-2 s-1") || !strcmp(text, "nmol N2O m-2 s-1")) *out = AF_CHAMBER_NMOL_N2O_M2_S;
    else if (!strcmp(text, "ug N m-2 h-1")) *out = AF_CHAMBER_UG_N_M2_H;
    else if (!strcmp(text, "g N ha-1 d-1")) *out = AF_CHAMBER_G_N_HA_D;
    else
        AF_FAIL(AF_EUNITS, "unknown chamber flux unit '%s' (expected 'g N m-2 h-1', 'nmol m-2 s-1', "
                "'ug N m-2 h-1' or 'g N ha-1 d-1')", text);
cleanup:
    return rc;
}

double af_chamber_to_g_n_m2_h(double v, af_chamber_unit unit)
{
    switch (unit) {
    case AF_CHAMBER_G_N_M2_H: return v;
    case AF_CHAMBER_NMOL_N2O_M2_S: return v * 1e-9 * AF_CHAMBER_G_N_PER_MOL_N2O * 3600.0;
    case AF_CHAMBER_UG_N_M2_H: return v * 1e-6;
    case AF_CHAMBER_G_N_HA_D: return v / 10000.0 / 24.0;
    }
    return NAN;
}

/* The value of n digits at s, already checked to be digits. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DD HH:MM[:SS]" (space or 'T') or "YYYYMMDDHHMM" -> epoch minutes. Every position is
 * checked first, then the fields are read by digits(): sscanf was most of a chamber file's read. */
static int parse_time(const char *s, long long *minutes)
{
    int y, mo, d, h, mi, sec = 0;
    size_t len = strlen(s);
    if (len == 12) {
        for (size_t i = 0; i < 12; i++)
            if (!isdigit((unsigned char)s[i])) return 0;
        y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2), h = digits(s + 8, 2), mi = digits(s + 10, 2);
    } else {
        if (len != 16 && len != 19) return 0;
        if (s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':') return 0;
        if (len == 19 && s[16] != ':') return 0;
        for (size_t i = 0; i < len; i++)
            if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && !isdigit((unsigned char)s[i])) return 0;
        y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2), mi = digits(s + 14, 2);
        if (len == 19) sec = digits(s + 17, 2);
    }
    af_date dt = { y, mo, d };
    if (!af_date_valid(dt) || h > 23 || mi > 59 || sec > 59) return 0;
    *minutes = (long long)af_date_to_epoch(dt) * 1440 + h * 60 + mi;
    return 1;
}

static int is_missing_text(const char *s)
{
    return *s == '\0' || !strcasecmp(s, "NA") || !strcasecmp(s, "NaN");
}

/* Index of chamber id, adding it if new. */
static int chamber_index(af_chamber_data *cd, const char *id, int *out, af_error *err)
{
    int rc = AF_OK;
    for (int i = 0; i < cd->nchambers; i++)
        if (!strcmp(cd->ids[i], id)) { *out = i; goto cleanup; }
    if (cd->nchambers == cd->idcap) {
        int ncap = cd->idcap ? cd->idcap * 2 : 8;
        char **nids = realloc(cd->ids, (size_t)ncap * sizeof *nids);
        AF_CHECK_ALLOC(nids);
        cd->ids = nids;
        cd->idcap = ncap;
    }
    cd->ids[cd->nchambers] = af_strdup(id);
    AF_CHECK_ALLOC(cd->ids[cd->nchambers]);
    *out = cd->nchambers++;
cleanup:
    return rc;
}

static int grow(af_chamber_data *cd, af_error *err)
{
    int rc = AF_OK;
    size_t ncap = cd->cap ? cd->cap * 2 : 1024;
    int *nc = realloc(cd->chamber, ncap * sizeof *nc);
    AF_CHECK_ALLOC(nc);
    cd->chamber = nc;
    long long *nm = realloc(cd->minute, ncap * sizeof *nm);
    AF_CHECK_ALLOC(nm);
    cd->minute = nm;
    double *nf = realloc(cd->flux, ncap * sizeof *nf);
    AF_CHECK_ALLOC(nf);
    cd->flux = nf;
    long *nl = realloc(cd->line, ncap * sizeof *nl);
    AF_CHECK_ALLOC(nl);
    cd->line = nl;
    double *nr = realloc(cd->raw, ncap * sizeof *nr);
    AF_CHECK_ALLOC(nr);
    cd->raw = nr;
    cd->cap = ncap;
cleanup:
    return rc;
}

/* A record's (chamber, minute) key and its index, sorted to find duplicates. */
typedef struct rec_key { int chamber; long long minute; long line; size_t r; } rec_key;
static int cmp_rec(const void *a, const void *b)
{
    const rec_key *x = a, *y = b;
    if (x->chamber != y->chamber) return x->chamber < y->chamber ? -1 : 1;
    if (x->minute != y->minute) return x->minute < y->minute ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* 1 when every chamber's timestamps rise strictly in file order (a logger's file): then no two
 * records share a key and the sort below is not needed; 0 otherwise, or out of memory. */
static int rising_per_chamber(const af_chamber_data *cd)
{
    long long *last = malloc((cd->nchambers ? (size_t)cd->nchambers : 1) * sizeof *last);
    unsigned char *seen = calloc(cd->nchambers ? (size_t)cd->nchambers : 1, 1);
    int ok = last && seen;
    for (size_t r = 0; ok && r < cd->nrec; r++) {
        int c = cd->chamber[r];
        ok = !seen[c] || cd->minute[r] > last[c];
        seen[c] = 1;
        last[c] = cd->minute[r];
    }
    free(last);
    free(seen);
    return ok;
}

/* Two records of one chamber at one timestamp are an error naming both lines and values (they were
 * averaged before, so one duplicated outlier row changed the day); several records in one hour at
 * different minutes are the documented hourly mean. */
static int check_duplicates(const af_chamber_data *cd, const af_chamber_opts *opts, af_error *err)
{
    int rc = AF_OK;
    rec_key *k = NULL;
    if (rising_per_chamber(cd)) return AF_OK;
    k = malloc((cd->nrec ? cd->nrec : 1) * sizeof *k);
    AF_CHECK_ALLOC(k);
    for (size_t r = 0; r < cd->nrec; r++) k[r] = (rec_key){ cd->chamber[r], cd->minute[r], cd->line[r], r };
    qsort(k, cd->nrec, sizeof *k, cmp_rec);
    for (size_t i = 1; i < cd->nrec; i++) {
        if (k[i].chamber != k[i - 1].chamber || k[i].minute != k[i - 1].minute) continue;
        long long m = k[i].minute;
        af_date d = af_date_from_epoch((long)af__tower_floordiv(m, 1440));
        long long mod = m - af__tower_floordiv(m, 1440) * 1440;
        char a[32], b[32];
        af_format_float((float)cd->raw[k[i - 1].r], a, sizeof a);
        af_format_float((float)cd->raw[k[i].r], b, sizeof b);
        AF_FAIL(AF_EFORMAT, "%s:%ld: duplicate record: chamber '%s' at %04d-%02d-%02d %02lld:%02lld, %s %s, "
                "already at line %ld with %s %s (one record per chamber and timestamp)", cd->path, k[i].line,
                cd->ids[k[i].chamber], d.year, d.month, d.day, mod / 60, mod % 60, opts->flux_column, b,
                k[i - 1].line, opts->flux_column, a);
    }
cleanup:
    free(k);
    return rc;
}

static int require_column(const af_csv *csv, const char *name, int *col, af_error *err)
{
    int rc = AF_OK;
    *col = af_csv_column(csv, name);
    if (*col < 0) AF_FAIL(AF_ENOTFOUND, "%s:%ld: no column '%s' in the header", csv->path, csv->line, name);
cleanup:
    return rc;
}

int af_chamber_read(const char *path, const af_chamber_opts *opts, af_chamber_data **out, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    af_chamber_data *cd = NULL;
    int cid = -1, ct = -1, cf = -1;
    memset(&csv, 0, sizeof csv);
    AF_CHECK_ARG(path != NULL && opts != NULL && out != NULL);
    AF_CHECK_ARG(opts->version == 1);
    AF_CHECK_ARG(opts->id_column && opts->time_column && opts->flux_column);
    AF_CHECK_ARG(opts->unit >= AF_CHAMBER_G_N_M2_H && opts->unit <= AF_CHAMBER_G_N_HA_D);
    if (opts->min_hours < 1 || opts->min_hours > 24)
        AF_FAIL(AF_EINVAL, "chamber min_hours %d outside 1..24", opts->min_hours);
    *out = NULL;
    cd = calloc(1, sizeof *cd);
    AF_CHECK_ALLOC(cd);
    snprintf(cd->path, sizeof cd->path, "%s", path);
    cd->min_hours = opts->min_hours;
    AF_CHECK(af_csv_open(path, &csv, err));
    csv.skip_comments = 1;
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(require_column(&csv, opts->id_column, &cid, err));
    AF_CHECK(require_column(&csv, opts->time_column, &ct, err));
    AF_CHECK(require_column(&csv, opts->flux_column, &cf, err));
    for (;;) {
        int got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; af_error_push(err, __FILE__, __LINE__, __func__); goto cleanup; }
        if (got == 0) break;
        if (csv.nfields != csv.nheader)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, header has %d", csv.path, csv.line, csv.nfields, csv.nheader);
        const char *id = csv.fields[cid], *ts = csv.fields[ct], *fs = csv.fields[cf];
        if (*id == '\0') AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': empty chamber id", csv.path, csv.line,
                                 opts->id_column);
        long long t = 0;
        if (!parse_time(ts, &t))
            AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': bad timestamp '%s'", csv.path, csv.line, opts->time_column, ts);
        double v = NAN, raw = NAN;
        if (!is_missing_text(fs)) {
            if (!af_parse_double(fs, &v) || isinf(v))
                AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': bad number '%s'", csv.path, csv.line, opts->flux_column, fs);
            raw = v;
            v = af_missing_value(v) ? NAN : af_chamber_to_g_n_m2_h(v, opts->unit);
        }
        if (cd->nrec == cd->cap) AF_CHECK(grow(cd, err));
        int k = 0;
        AF_CHECK(chamber_index(cd, id, &k, err));
        cd->chamber[cd->nrec] = k;
        cd->minute[cd->nrec] = t;
        cd->flux[cd->nrec] = v;
        cd->line[cd->nrec] = csv.line;
        cd->raw[cd->nrec] = raw;
        cd->nrec++;
    }
    AF_CHECK(check_duplicates(cd, opts, err));
    *out = cd;
    cd = NULL;
cleanup:
    af_csv_close(&csv);
    af_chamber_data_destroy(&cd);
    return rc;
}

void af_chamber_data_destroy(af_chamber_data **cd)
{
    if (!cd || !*cd) return;
    for (int i = 0; i < (*cd)->nchambers; i++) free((*cd)->ids[i]);
    free((*cd)->ids);
    free((*cd)->chamber);
    free((*cd)->minute);
    free((*cd)->flux);
    free((*cd)->line);
    free((*cd)->raw);
    free(*cd);
    *cd = NULL;
}

int af_chamber_count(const af_chamber_data *cd) { return cd ? cd->nchambers : 0; }

const char *af_chamber_id_ref(const af_chamber_data *cd, int i)
{
    return (cd && i >= 0 && i < cd->nchambers) ? cd->ids[i] : NULL;
}

int af_chamber_find(const af_chamber_data *cd, const char *id, int *index, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(cd != NULL && id != NULL && index != NULL);
    for (int i = 0; i < cd->nchambers; i++)
        if (!strcmp(cd->ids[i], id)) { *index = i; goto cleanup; }
    *index = -1;
    AF_FAIL(AF_ENOTFOUND, "%s: no chamber '%s'", cd->path, id);
cleanup:
    return rc;
}

int af_chamber_daily(const af_chamber_data *cd, int index, long epoch0, int ndays, float *value, int *nhours,
                     af_error *err)
{
    int rc = AF_OK;
    double *hsum = NULL;
    int *hcnt = NULL;
    AF_CHECK_ARG(cd != NULL && value != NULL && ndays >= 0);
    if (index < 0 || index >= cd->nchambers)
        AF_FAIL(AF_EINVAL, "chamber index %d outside 0..%d of '%s'", index, cd->nchambers - 1, cd->path);
    if (ndays == 0) goto cleanup;
    size_t nh = (size_t)ndays * 24;
    hsum = calloc(nh, sizeof *hsum);
    hcnt = calloc(nh, sizeof *hcnt);
    AF_CHECK_ALLOC(hsum);
    AF_CHECK_ALLOC(hcnt);
    for (size_t r = 0; r < cd->nrec; r++) {
        if (cd->chamber[r] != index || isnan(cd->flux[r])) continue;
        long long h = af__tower_floordiv(cd->minute[r], 60) - (long long)epoch0 * 24;
        if (h < 0 || h >= (long long)nh) continue;
        hsum[h] += cd->flux[r];
        hcnt[h]++;
    }
    for (int d = 0; d < ndays; d++) {
        int valid = 0;
        double s = 0.0;
        for (int h = 0; h < 24; h++) {
            size_t o = (size_t)d * 24 + (size_t)h;
            if (hcnt[o] == 0) continue;
            s += hsum[o] / hcnt[o];
            valid++;
        }
        value[d] = valid >= cd->min_hours ? (float)(s / valid * 24.0) : NAN;
        if (nhours) nhours[d] = valid;
    }
cleanup:
    free(hcnt);
    free(hsum);
    return rc;
}

void af_chamber_flip_sign(float *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!isnan(v[i])) v[i] = -v[i];
}
