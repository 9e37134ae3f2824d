/* SPDX-License-Identifier: MIT */
/*
 * cmd_export.c: `agroflux export OUTDIR --layout agroflux DEST` (collective:
 * run it under mpirun/srun or as one process) and `agroflux export --verify
 * DEST` (one process). Parses options, calls af_export_agroflux or
 * af_export_verify, prints one summary line on rank 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agroflux/train.h"
#include "cli.h"

static const char *export_help =
    "usage: agroflux export OUTDIR --layout agroflux DEST [--subset mw|dc]\n"
    "                       [--split temporal|spatial|official-temporal|official-spatial]\n"
    "                       [--fold F] [--site-fold F] [--sign agroflux|native]\n"
    "                       [--missing fill|keep|error] [--observations official|site]\n"
    "                       [--experiments official]\n"
    "       agroflux export --verify DEST\n"
    "\n"
    "Writes the arrays the official AgroFlux training code loads (DEST/data_files/...:\n"
    "t0_<subset>/X_<subset>_scaled.npy (days, samples, 11), Y_<subset>_scaled_{Carbon,Nitrogen,\n"
    "Thermal,Water,Combined}.npy, t0_scalers/*.npy (float64), tower files under t1_co2/, chamber\n"
    "files under t1_n2o/), float32, scaled with leak-free scalers: --split temporal|spatial (the\n"
    "index's [splits]; spatial uses --fold F), official-temporal (first int(0.8 n) years) or\n"
    "official-spatial --fold F (AgroFlux's blocks of ncounties // 5 counties: validation block F,\n"
    "test block F+1 mod 5), fitted here on the training part only. --experiments official writes\n"
    "every official experiment (temporal, spatial_0..4) as DEST/<experiment>/data_files.\n"
    "--missing fill (default) interpolates gaps of at most 10 days and sets longer ones to the\n"
    "training mean (scaled 0), writing masks beside (X_<subset>_mask.npy, ...) and the counts in\n"
    "export.json; keep leaves NaN; error refuses when anything is missing. --observations\n"
    "official (default) scales tower GPP/NEE and chamber N2O with the t0 scalers of GPP,\n"
    "CO2_FLUX and N2O_FLUX in the county arrays' sign, as the official T1/T2 code de-normalises\n"
    "them; site uses the leave-one-site-out fold --site-fold (default 0) and our sign. Tower GPP\n"
    "and NEE share one mask. County samples are in AgroFlux order: county list position\n"
    "([counties] select row, else FIPS) x scenario. --sign agroflux (default) writes Reco,\n"
    "CO2_FLUX and N2O_FLUX of the county arrays in AgroFlux's stored sign (negative = to the\n"
    "atmosphere: values and scaler means negated; the index must record our 'positive = to the\n"
    "atmosphere' for them); --sign native keeps ours. DEST/export.json, written last, lists\n"
    "every file.\n"
    "Needs a [splits] section in the pipeline, calendar = noleap over whole years, and the\n"
    "AgroFlux input and target names (docs/formats.md). Works under mpirun: ranks write their\n"
    "slices; the bytes do not depend on the rank count.\n"
    "--verify DEST re-checks an export against its index: shapes, dtypes, sizes, sample order,\n"
    "sign, scaler files.\n";

static int parse_fold(const char *opt, const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v > 1000000) {
        fprintf(stderr, "agroflux export: %s '%s': expected a fold number >= 0\n", opt, s);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int do_verify(const char *dest)
{
    af_error err = AF_ERROR_INIT;
    size_t n = 0;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int rc = rank == 0 ? af_export_verify(dest, &n, &err) : AF_OK;
    if (rc != AF_OK) {
        cli_report("export --verify", &err, 0);
        return cli_exit_code(rc);
    }
    if (rank == 0) printf("agroflux export --verify: %s: OK (%zu files)\n", dest, n);
    return AF_EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) { fputs(export_help, stdout); return AF_EXIT_OK; }
    af_export_opts o = { NULL, NULL, "mw", "temporal", 0, 0, "agroflux", "fill", "official", 0 };
    const char *experiments = NULL;
    const char *layout = NULL, *verify = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (more && !strcmp(a, "--layout")) layout = argv[++i];
        else if (more && !strcmp(a, "--verify")) verify = argv[++i];
        else if (more && !strcmp(a, "--subset")) o.subset = argv[++i];
        else if (more && !strcmp(a, "--split")) o.split = argv[++i];
        else if (more && !strcmp(a, "--sign")) o.sign = argv[++i];
        else if (more && !strcmp(a, "--missing")) o.missing = argv[++i];
        else if (more && !strcmp(a, "--observations")) o.observations = argv[++i];
        else if (more && !strcmp(a, "--experiments")) experiments = argv[++i];
        else if (more && !strcmp(a, "--fold")) { if (!parse_fold(a, argv[++i], &o.fold)) return AF_EXIT_USAGE; }
        else if (more && !strcmp(a, "--site-fold")) { if (!parse_fold(a, argv[++i], &o.site_fold)) return AF_EXIT_USAGE; }
        else if (a[0] != '-' && !o.outdir) o.outdir = a;
        else if (a[0] != '-' && !o.dest) o.dest = a;
        else { fprintf(stderr, "agroflux export: unexpected argument '%s'\n%s", a, export_help); return AF_EXIT_USAGE; }
    }
    if (verify) {
        if (o.outdir) { fprintf(stderr, "agroflux export: --verify takes only DEST\n%s", export_help); return AF_EXIT_USAGE; }
        return do_verify(verify);
    }
    if (!o.outdir || !o.dest || !layout) { fputs(export_help, stderr); return AF_EXIT_USAGE; }
    if (strcmp(layout, "agroflux") != 0) {
        fprintf(stderr, "agroflux export: --layout '%s': the only layout is 'agroflux'\n", layout);
        return AF_EXIT_USAGE;
    }
    if (strcmp(o.subset, "mw") != 0 && strcmp(o.subset, "dc") != 0) {
        fprintf(stderr, "agroflux export: --subset '%s': expected mw (Ecosys) or dc (DayCent)\n", o.subset);
        return AF_EXIT_USAGE;
    }
    if (strcmp(o.sign, "agroflux") != 0 && strcmp(o.sign, "native") != 0) {
        fprintf(stderr, "agroflux export: --sign '%s': expected agroflux or native\n", o.sign);
        return AF_EXIT_USAGE;
    }
    if (strcmp(o.split, "temporal") != 0 && strcmp(o.split, "spatial") != 0 && strcmp(o.split, "official-temporal") != 0 &&
        strcmp(o.split, "official-spatial") != 0) {
        fprintf(stderr, "agroflux export: --split '%s': expected temporal, spatial, official-temporal or official-spatial\n",
                o.split);
        return AF_EXIT_USAGE;
    }
    if (strcmp(o.missing, "fill") != 0 && strcmp(o.missing, "keep") != 0 && strcmp(o.missing, "error") != 0) {
        fprintf(stderr, "agroflux export: --missing '%s': expected fill, keep or error\n", o.missing);
        return AF_EXIT_USAGE;
    }
    if (strcmp(o.observations, "official") != 0 && strcmp(o.observations, "site") != 0) {
        fprintf(stderr, "agroflux export: --observations '%s': expected official or site\n", o.observations);
        return AF_EXIT_USAGE;
    }
    if (experiments && strcmp(experiments, "official") != 0) {
        fprintf(stderr, "agroflux export: --experiments '%s': the only set is 'official'\n", experiments);
        return AF_EXIT_USAGE;
    }
    o.experiments = experiments != NULL;
    af_error err = AF_ERROR_INIT;
    af_export_summary s;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int rc = af_export_agroflux(MPI_COMM_WORLD, &o, &s, &err);
    if (rc != AF_OK) {
        cli_report("export", &err, rank);
        return cli_exit_code(rc);
    }
    if (rank == 0) {
        printf("agroflux export: %s -> %s: %zu files (%d experiment%s, %zu county samples x %d days, %zu tower and %zu "
               "chamber sites)\n", o.outdir, o.dest, s.nfiles, s.nexperiments, s.nexperiments == 1 ? "" : "s",
               s.ncounty_samples, s.ndays, s.nco2_sites, s.nn2o_sites);
        printf("agroflux export: missing values (--missing %s): %llu cells%s\n%s", o.missing, s.nmissing,
               s.report[0] ? ":" : "", s.report);
        if (s.njoint) printf("agroflux export: %llu tower days dropped so that GPP and NEE share one mask\n", s.njoint);
    }
    return AF_EXIT_OK;
}
