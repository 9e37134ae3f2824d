/* SPDX-License-Identifier: MIT */
/*
 * cmd_stats.c: `agroflux inspect OUTDIR --stats [--csv]`: per variable x sample
 * kind x year, the share of valid cells, missing (fill) cells, min, mean, max and
 * values outside the documented physical bounds (agroflux/stats.h). The report
 * command reads the CSV form. Full variable names, never cut.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agroflux/stats.h"
#include "cli.h"

static void put_num(double v, int csv)
{
    if (isnan(v)) fputs(csv ? "" : "-", stdout);
    else printf("%.6g", v);
}

static size_t name_width(const af_index *idx)
{
    size_t w = 8;
    for (size_t i = 0; i < idx->ninputs + idx->ntargets; i++) {
        const af_var_desc *d = i < idx->ninputs ? &idx->inputs[i] : &idx->targets[i - idx->ninputs];
        if (strlen(d->name) > w) w = strlen(d->name);
    }
    return w;
}

static void print_csv(const af_index *idx, const af_stats *st)
{
    puts("variable,role,units,kind,year,cells,valid,valid_pct,missing,min,mean,max,below,above,lower_bound,upper_bound");
    for (size_t i = 0; i < st->nrows; i++) {
        const af_stats_row *r = &st->rows[i];
        const af_var_desc *d = r->is_target ? &idx->targets[r->var - idx->ninputs] : &idx->inputs[r->var];
        double lo, hi;
        int has = af_stats_bounds(d->name, d->units, &lo, &hi, NULL);
        printf("%s,%s,%s,%s,%d,%lld,%lld,%.2f,%lld,", d->name, r->is_target ? "target" : "input", d->units,
               r->kind == AF_SAMPLE_SITE ? "site" : "county", r->year, r->cells, r->valid,
               100.0 * (double)r->valid / (double)r->cells, r->missing);
        put_num(r->min, 1);
        putchar(',');
        put_num(r->mean, 1);
        putchar(',');
        put_num(r->max, 1);
        printf(",%lld,%lld,", r->below, r->above);
        put_num(has && !isinf(lo) ? lo : NAN, 1);
        putchar(',');
        put_num(has && !isinf(hi) ? hi : NAN, 1);
        putchar('\n');
    }
}

static void print_table(const af_index *idx, const af_stats *st)
{
    int w = (int)name_width(idx);
    printf("%-*s %-6s %4s %7s %9s %9s %11s %11s %11s %7s  %s\n", w, "variable", "kind", "year", "valid%", "valid",
           "missing", "min", "mean", "max", "outside", "bounds");
    for (size_t i = 0; i < st->nrows; i++) {
        const af_stats_row *r = &st->rows[i];
        const af_var_desc *d = r->is_target ? &idx->targets[r->var - idx->ninputs] : &idx->inputs[r->var];
        double lo, hi;
        char vals[3][32];
        double v3[3] = { r->min, r->mean, r->max };
        for (int k = 0; k < 3; k++) {
            if (isnan(v3[k])) snprintf(vals[k], sizeof vals[k], "-");
            else snprintf(vals[k], sizeof vals[k], "%.5g", v3[k]);
        }
        printf("%-*s %-6s %4d %6.1f%% %9lld %9lld %11s %11s %11s %7lld  ", w, d->name,
               r->kind == AF_SAMPLE_SITE ? "site" : "county", r->year, 100.0 * (double)r->valid / (double)r->cells,
               r->valid, r->missing, vals[0], vals[1], vals[2], r->below + r->above);
        if (af_stats_bounds(d->name, d->units, &lo, &hi, NULL)) printf("[%g, %g] %s\n", lo, hi, d->units);
        else printf("none (%s)\n", d->units);
    }
}

int cli_print_stats(const char *dir, const af_index *idx, int csv, af_error *err)
{
    af_stats st = { 0 };
    int rc = af_stats_compute(dir, idx, &st, err);
    if (rc != AF_OK) return rc;
    if (csv) print_csv(idx, &st);
    else print_table(idx, &st);
    af_stats_dispose(&st);
    return AF_OK;
}
