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

#include <mpi.h>

#include "agroflux/train.h"
#include "cli.h"

enum { OPT_LAYOUT = 1, OPT_VERIFY, OPT_SUBSET, OPT_SPLIT, OPT_FOLD, OPT_SITE_FOLD, OPT_SIGN };

static const cli_opt export_opts[] = {
    { OPT_LAYOUT, "layout", "LAYOUT", "the array layout to write; the only one is agroflux (required)" },
    { OPT_SUBSET, "subset", "mw|dc", "mw (default): Ecosys, Midwest; dc: DayCent" },
    { OPT_SPLIT, "split", "temporal|spatial", "which county split's scalers (default temporal)" },
    { OPT_FOLD, "fold", "F", "spatial fold for --split spatial (default 0)" },
    { OPT_SITE_FOLD, "site-fold", "F", "leave-one-site-out fold for the site arrays (default 0)" },
    { OPT_SIGN, "sign", "agroflux|native", "agroflux (default): Reco, CO2_FLUX, N2O_FLUX in AgroFlux's\n"
      "stored sign; native: ours (positive = to the atmosphere)" },
    { OPT_VERIFY, "verify", "DEST", "re-check an export against its index instead of writing one" },
    { 0, NULL, NULL, NULL }
};

static int export_main(const cli_command *cmd, const cli_args *a);

const cli_command cli_cmd_export = {
    .name = "export",
    .synopsis = "OUTDIR DEST --layout agroflux [--subset mw|dc] [--split temporal|spatial]\n"
                "    [--fold F] [--site-fold F] [--sign agroflux|native]\n"
                "--verify DEST",
    .summary = "write the AgroFlux training arrays (.npy), scaled leak-free",
    .description =
        "Writes the arrays the official AgroFlux training code loads (DEST/data_files/...:\n"
        "t0_<subset>/X_<subset>_scaled.npy (days, samples, 11), Y_<subset>_scaled_{Carbon,Nitrogen,\n"
        "Thermal,Water}.npy, t0_scalers/*.npy, tower files under t1_co2/, chamber files under t1_n2o/),\n"
        "float32, NaN where missing, scaled with the leak-free scalers of the index: county samples\n"
        "with --split (default temporal; spatial uses --fold F), sites with leave-one-site-out fold\n"
        "--site-fold (default 0). County samples are in AgroFlux order: county list position\n"
        "([counties] select row, else FIPS) x scenario. --sign agroflux (default) writes Reco,\n"
        "CO2_FLUX and N2O_FLUX of the county arrays in AgroFlux's stored sign (negative = to the\n"
        "atmosphere: values and scaler means negated; the index must record our 'positive = to the\n"
        "atmosphere' for them); --sign native keeps ours. DEST/export.json, written last, lists\n"
        "every file.\n"
        "Needs a [splits] section in the pipeline, calendar = noleap over whole years, and the\n"
        "AgroFlux input and target names (docs/formats.md). Works under mpirun: ranks write their\n"
        "slices; the bytes do not depend on the rank count.\n"
        "--verify DEST re-checks an export against its index: shapes, dtypes, sizes, sample order,\n"
        "sign, scaler files.\n",
    .opts = export_opts,
    .operands = "OUTDIR DEST",
    .min_operands = 0, .max_operands = 2,
    .mpi = CLI_MPI_ALWAYS,
    .run = export_main,
};

static int do_verify(const char *dest)
{
    af_error err = AF_ERROR_INIT;
    size_t n = 0;
    int rank = cli_rank();
    int rc = rank == 0 ? af_export_verify(dest, &n, &err) : AF_OK;
    if (rc != AF_OK) {
        cli_report("export --verify", &err, 0);
        return cli_exit_code(rc);
    }
    if (rank == 0) printf("agroflux export --verify: %s: OK (%zu files)\n", dest, n);
    return AF_EXIT_OK;
}

static int export_main(const cli_command *cmd, const cli_args *a)
{
    af_export_opts o = { NULL, NULL, "mw", "temporal", 0, 0, "agroflux" };
    const char *layout = NULL, *verify = NULL;
    long v;
    for (size_t i = 0; i < a->nopts; i++) {
        const cli_opt *opt = a->opt[i].opt;
        const char *val = a->opt[i].value;
        switch (opt->id) {
        case OPT_LAYOUT: if (!cli_value_choice(cmd, opt, val, "agroflux")) return AF_EXIT_USAGE; layout = val; break;
        case OPT_VERIFY: verify = val; break;
        case OPT_SUBSET: if (!cli_value_choice(cmd, opt, val, "mw|dc")) return AF_EXIT_USAGE; o.subset = val; break;
        case OPT_SPLIT: if (!cli_value_choice(cmd, opt, val, "temporal|spatial")) return AF_EXIT_USAGE; o.split = val; break;
        case OPT_SIGN: if (!cli_value_choice(cmd, opt, val, "agroflux|native")) return AF_EXIT_USAGE; o.sign = val; break;
        case OPT_FOLD: if (!cli_value_long(cmd, opt, val, 0, 1000000, &v)) return AF_EXIT_USAGE; o.fold = (int)v; break;
        case OPT_SITE_FOLD: if (!cli_value_long(cmd, opt, val, 0, 1000000, &v)) return AF_EXIT_USAGE; o.site_fold = (int)v; break;
        }
    }
    if (verify) {
        if (a->noperands) return cli_usage_error(cmd, "--verify DEST takes no operand, got '%s'", a->operand[0]);
        return do_verify(verify);
    }
    if (a->noperands < 2) return cli_usage_error(cmd, "missing operand %s", a->noperands ? "DEST" : "OUTDIR");
    if (!layout) return cli_usage_error(cmd, "missing option --layout agroflux");
    o.outdir = a->operand[0];
    o.dest = a->operand[1];
    af_error err = AF_ERROR_INIT;
    af_export_summary s;
    int rank = cli_rank();
    int rc = af_export_agroflux(MPI_COMM_WORLD, &o, &s, &err);
    if (rc != AF_OK) {
        cli_report("export", &err, rank);
        return cli_exit_code(rc);
    }
    if (rank == 0)
        printf("agroflux export: %s -> %s: %zu files (%zu county samples x %d days, %zu tower and %zu chamber sites)\n",
               o.outdir, o.dest, s.nfiles, s.ncounty_samples, s.ndays, s.nco2_sites, s.nn2o_sites);
    return AF_EXIT_OK;
}
