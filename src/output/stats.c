/* SPDX-License-Identifier: MIT */
/*
 * stats.c: implements agroflux/stats.h. Reads each (time, sample) variable of
 * each shard whole (one variable at a time: days x shard samples floats) and
 * accumulates per variable x sample kind x year in global sample order, then
 * day order, so the numbers are the same on every machine. The physical bounds
 * table lives here and is printed into docs/formats.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pnetcdf.h>

#include "agroflux/stats.h"
#include "agroflux/units.h"
#include "af_check.h"
#include "af_util.h"

/* Documented physical bounds, in `units` (converted to a variable's own units). A name
 * ending in '_' matches every layer (TMAX_SOIL_1, ...). Values outside are reported by
 * `inspect --stats` and the report; they are not removed. */
static const struct bound {
    const char *name, *units;
    double lo, hi;
    const char *why;
} bounds[] = {
    { "TMAX_AIR", "degC", -60, 60, "air temperature beyond world records" },
    { "TMIN_AIR", "degC", -60, 60, "air temperature beyond world records" },
    { "TMAX_SOIL_", "degC", -50, 70, "soil temperature" },
    { "TMIN_SOIL_", "degC", -50, 70, "soil temperature" },
    { "TAVG_SOIL_", "degC", -50, 70, "soil temperature" },
    { "PRECN", "mm d-1", 0, 1000, "precipitation is never negative" },
    { "RADN", "MJ m-2 d-1", 0, 45, "shortwave radiation: not negative, below the top-of-atmosphere daily maximum" },
    { "FERTZR_N", "g N m-2 d-1", 0, 100, "fertilizer is never negative" },
    { "PDOY", "flag", 0, 1, "a 0/1 flag" },
    { "PLANTT", "flag", 0, 1, "a 0/1 flag (no bounds when declared as class codes)" },
    { "TBKDS", "Mg m-3", 0.1, 2.7, "bulk density between organic soil and quartz" },
    { "TCSAND", "g kg-1", 0, 1000, "a mass fraction" },
    { "TCSILT", "g kg-1", 0, 1000, "a mass fraction" },
    { "TSOC", "g kg-1", 0, 1000, "a mass fraction" },
    { "TPH", "pH", 0, 14, "the pH scale" },
    { "TCEC", "cmol kg-1", 0, 300, "cation exchange capacity" },
    { "GPP", "g C m-2 d-1", 0, 60, "GPP < 0 is unphysical" },
    { "Reco", "g C m-2 d-1", 0, 60, "respiration is a release (positive = to the atmosphere)" },
    { "Rh", "g C m-2 d-1", 0, 60, "respiration is a release (positive = to the atmosphere)" },
    { "WTR_", "1", 0, 1, "volumetric water content is a fraction" },
    { "ET", "mm d-1", -5, 25, "daily evapotranspiration (small negative: dew)" },
    { "NH4_", "g N m-2", 0, INFINITY, "a soil nitrogen stock is never negative" },
    { "NO3_", "g N m-2", 0, INFINITY, "a soil nitrogen stock is never negative" },
};

static const struct bound *find_bound(const char *name)
{
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const char *n = bounds[i].name;
        size_t len = strlen(n);
        if (n[len - 1] == '_' ? !strncmp(name, n, len) : !strcmp(name, n)) return &bounds[i];
    }
    return NULL;
}

int af_stats_bounds(const char *name, const char *units, double *lo, double *hi, const char **why)
{
    const struct bound *b = find_bound(name);
    af_unit_conv c;
    af_error ignore = AF_ERROR_INIT;
    *lo = -INFINITY;
    *hi = INFINITY;
    if (!b || af_units_conversion(b->units, units, &c, &ignore) != AF_OK) return 0;
    double a = isinf(b->lo) ? b->lo : af_units_apply(c, b->lo), z = isinf(b->hi) ? b->hi : af_units_apply(c, b->hi);
    *lo = a < z ? a : z;
    *hi = a < z ? z : a;
    if (why) *why = b->why;
    return 1;
}

void af_stats_print_bounds_markdown(void *vfp)
{
    FILE *fp = vfp;
    fprintf(fp, "| variable | units | lowest | highest | why |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const struct bound *b = &bounds[i];
        size_t len = strlen(b->name);
        char hi[32];
        if (isinf(b->hi)) snprintf(hi, sizeof hi, "none");
        else snprintf(hi, sizeof hi, "%g", b->hi);
        fprintf(fp, "| `%s%s` | %s | %g | %s | %s |\n", b->name, b->name[len - 1] == '_' ? "*" : "", b->units,
                b->lo, hi, b->why);
    }
}

void af_stats_dispose(af_stats *st)
{
    if (!st) return;
    free(st->rows);
    st->rows = NULL;
    st->nrows = 0;
}

/* Accumulators: [var][kind][year] over all variables. */
typedef struct acc {
    long long cells, valid, below, above;
    double min, max, sum;
} acc;

/* Add one (time, sample) variable of one shard (values[t * rows + r]) to acc[var]. */
static void add_var(acc *a, const float *values, int nd, size_t rows, size_t first, const af_index *idx,
                    const int *year_of, int y0, int ny, double lo, double hi)
{
    for (size_t r = 0; r < rows; r++) {
        int kind = idx->samples[first + r].kind == AF_SAMPLE_SITE ? 1 : 0;
        for (int t = 0; t < nd; t++) {
            acc *c = &a[(size_t)kind * (size_t)ny + (size_t)(year_of[t] - y0)];
            float v = values[(size_t)t * rows + r];
            c->cells++;
            if (!isfinite(v)) continue;
            if (c->valid == 0 || v < c->min) c->min = v;
            if (c->valid == 0 || v > c->max) c->max = v;
            c->valid++;
            c->sum += v;
            c->below += v < lo;
            c->above += v > hi;
        }
    }
}

static int read_var(int ncid, const char *path, const char *name, int nd, size_t rows, float *out, af_error *err)
{
    int rc = AF_OK, id, ncrc;
    MPI_Offset start[2] = { 0, 0 }, count[2] = { nd, (MPI_Offset)rows };
    ncrc = ncmpi_inq_varid(ncid, name, &id);
    if (ncrc == NC_NOERR) ncrc = ncmpi_get_vara_float_all(ncid, id, start, count, out);
    if (ncrc != NC_NOERR) AF_FAIL(AF_ENC, "'%s': variable %s: %s", path, name, ncmpi_strerror(ncrc));
cleanup:
    return rc;
}

/* Accumulate every variable of shard k. */
static int add_shard(const char *outdir, const af_index *idx, size_t k, acc *a, const int *year_of, int y0,
                     int ny, float *buf, af_error *err)
{
    int rc = AF_OK, ncid = -1, ncrc;
    char path[4400];
    const af_shard_info *s = &idx->shards[k];
    size_t nv = idx->ninputs + idx->ntargets;
    AF_CHECK(af_path_join(outdir, s->path, path, sizeof path, err));
    ncrc = ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid);
    if (ncrc != NC_NOERR) AF_FAIL(AF_ENC, "cannot open shard '%s': %s", path, ncmpi_strerror(ncrc));
    for (size_t v = 0; v < nv && s->sample_count > 0; v++) {
        const af_var_desc *d = v < idx->ninputs ? &idx->inputs[v] : &idx->targets[v - idx->ninputs];
        double lo, hi;
        af_stats_bounds(d->name, d->units, &lo, &hi, NULL);
        AF_CHECK(read_var(ncid, path, d->name, idx->ndays, s->sample_count, buf, err));
        add_var(a + v * 2 * (size_t)ny, buf, idx->ndays, s->sample_count, s->sample_start, idx, year_of, y0, ny,
                lo, hi);
    }
cleanup:
    if (ncid >= 0) ncmpi_close(ncid);
    return rc;
}

/* Rows with cells, in variable, kind, year order. */
static int collect(const af_index *idx, const acc *a, int y0, int ny, af_stats *out, af_error *err)
{
    int rc = AF_OK;
    size_t nv = idx->ninputs + idx->ntargets, n = 0;
    out->rows = calloc(nv * 2 * (size_t)ny + 1, sizeof *out->rows);
    AF_CHECK_ALLOC(out->rows);
    for (size_t v = 0; v < nv; v++)
        for (int kind = 0; kind < 2; kind++)
            for (int y = 0; y < ny; y++) {
                const acc *c = &a[(v * 2 + (size_t)kind) * (size_t)ny + (size_t)y];
                if (c->cells == 0) continue;
                af_stats_row *r = &out->rows[n++];
                r->var = v;
                r->is_target = v >= idx->ninputs;
                r->kind = kind ? AF_SAMPLE_SITE : AF_SAMPLE_COUNTY;
                r->year = y0 + y;
                r->cells = c->cells;
                r->valid = c->valid;
                r->missing = c->cells - c->valid;
                r->below = c->below;
                r->above = c->above;
                r->min = c->valid ? c->min : NAN;
                r->max = c->valid ? c->max : NAN;
                r->mean = c->valid ? c->sum / (double)c->valid : NAN;
            }
    out->nrows = n;
cleanup:
    return rc;
}

int af_stats_compute(const char *outdir, const af_index *idx, af_stats *out, af_error *err)
{
    int rc = AF_OK;
    af_calendar *cal = NULL;
    int *year_of = NULL;
    acc *a = NULL;
    float *buf = NULL;
    AF_CHECK_ARG(outdir != NULL && idx != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    af_calendar_kind kind = strcmp(idx->calendar, "noleap") ? AF_CAL_STANDARD : AF_CAL_NOLEAP;
    AF_CHECK(af_calendar_create(idx->start, idx->end, kind, &cal, err));
    if (af_calendar_ndays(cal) != idx->ndays)
        AF_FAIL(AF_EFORMAT, "%s/index.json: calendar gives %d days, ndays is %d", outdir, af_calendar_ndays(cal),
                idx->ndays);
    int y0 = idx->start.year, ny = idx->end.year - idx->start.year + 1;
    size_t nv = idx->ninputs + idx->ntargets, maxrows = 0;
    year_of = malloc(((size_t)idx->ndays + 1) * sizeof *year_of);
    a = calloc(nv * 2 * (size_t)ny + 1, sizeof *a);
    AF_CHECK_ALLOC(year_of);
    AF_CHECK_ALLOC(a);
    for (int t = 0; t < idx->ndays; t++) year_of[t] = af_calendar_date(cal, t).year;
    for (size_t k = 0; k < idx->nshards; k++)
        if (idx->shards[k].sample_count > maxrows) maxrows = idx->shards[k].sample_count;
    buf = malloc(((size_t)idx->ndays * maxrows + 1) * sizeof *buf);
    AF_CHECK_ALLOC(buf);
    for (size_t k = 0; k < idx->nshards; k++) {
        if (idx->shards[k].sample_start + idx->shards[k].sample_count > idx->nsamples)
            AF_FAIL(AF_EFORMAT, "%s: samples outside the index", idx->shards[k].path);
        AF_CHECK(add_shard(outdir, idx, k, a, year_of, y0, ny, buf, err));
    }
    AF_CHECK(collect(idx, a, y0, ny, out, err));
cleanup:
    if (rc != AF_OK) af_stats_dispose(out);
    af_calendar_destroy(&cal);
    free(year_of);
    free(a);
    free(buf);
    return rc;
}
