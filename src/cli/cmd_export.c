/* SPDX-License-Identifier: MIT */
/*
 * cmd_export.c: `agroflux export OUTDIR --layout agroflux DEST` (collective:
 * run it under mpirun/srun or as one process) and `agroflux export --verify
 * DEST` (one process). Parses options, calls af_export_agroflux or
 * af_export_verify, prints the summary (files, missing-value counts per
 * variable, joint-mask drops) on rank 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "agroflux/train.h"
#include "cli.h"

enum { OPT_LAYOUT = 1, OPT_VERIFY, OPT_SUBSET, OPT_SPLIT, OPT_FOLD, OPT_SITE_FOLD, OPT_SIGN, OPT_MISSING, OPT_OBS,
       OPT_EXPERIMENTS };

static const cli_opt export_opts[] = {
    { OPT_LAYOUT, "layout", "LAYOUT", "the array layout to write; the only one is agroflux (required)" },
    { OPT_SUBSET, "subset", "mw|dc", "mw (default): Ecosys, Midwest; dc: DayCent" },
    { OPT_SPLIT, "split", "temporal|spatial|official-temporal|official-spatial",
      "which county split's scalers (default temporal): the index's [splits], or AgroFlux's\n"
      "own folds fitted here on the training part" },
    { OPT_FOLD, "fold", "F", "spatial fold for --split spatial or official-spatial (default 0)" },
    { OPT_SITE_FOLD, "site-fold", "F", "leave-one-site-out fold for the site arrays (default 0)" },
    { OPT_SIGN, "sign", "agroflux|native", "agroflux (default): Reco, CO2_FLUX, N2O_FLUX in AgroFlux's\n"
      "stored sign; native: ours (positive = to the atmosphere)" },
    { OPT_MISSING, "missing", "fill|keep|error", "fill (default): interpolate gaps of at most 10 days, else the\n"
      "training mean, masks beside; keep: NaN; error: refuse when a cell is missing" },
    { OPT_OBS, "observations", "official|site", "official (default): towers and chambers on the t0 scalers in\n"
      "the county arrays' sign; site: leave-one-site-out site scalers, our sign" },
    { OPT_EXPERIMENTS, "experiments", "official", "write every official experiment (temporal, spatial_0..4)\n"
      "as DEST/<experiment>/ (--split and --fold are then ignored)" },
    { OPT_VERIFY, "verify", "DEST", "re-check an export against its index instead of writing one" },
    { 0, NULL, NULL, NULL }
};

static int export_main(const cli_command *cmd, const cli_args *a);

const cli_command cli_cmd_export = {
    .name = "export",
    .synopsis = "OUTDIR DEST --layout agroflux [--subset mw|dc]\n"
                "    [--split temporal|spatial|official-temporal|official-spatial] [--fold F]\n"
                "    [--site-fold F] [--sign agroflux|native] [--missing fill|keep|error]\n"
                "    [--observations official|site] [--experiments official]\n"
                "--verify DEST",
    .summary = "write the AgroFlux training arrays (.npy), scaled leak-free",
    .description =
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
        "every file, the missing-value counts and the conventions.\n"
        "Needs calendar = noleap over whole years, the AgroFlux input names (docs/formats.md) and a\n"
        "[splits] section for the index's splits or site scalers. Works under mpirun: ranks write\n"
        "their slices; the bytes do not depend on the rank count.\n"
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
    af_export_opts o = { NULL, NULL, "mw", "temporal", 0, 0, "agroflux", "fill", "official", 0 };
    const char *layout = NULL, *verify = NULL;
    long v;
    for (size_t i = 0; i < a->nopts; i++) {
        const cli_opt *opt = a->opt[i].opt;
        const char *val = a->opt[i].value;
        switch (opt->id) {
        case OPT_LAYOUT: if (!cli_value_choice(cmd, opt, val, "agroflux")) return AF_EXIT_USAGE; layout = val; break;
        case OPT_VERIFY: verify = val; break;
        case OPT_SUBSET: if (!cli_value_choice(cmd, opt, val, "mw|dc")) return AF_EXIT_USAGE; o.subset = val; break;
        case OPT_SPLIT:
            if (!cli_value_choice(cmd, opt, val, "temporal|spatial|official-temporal|official-spatial")) return AF_EXIT_USAGE;
            o.split = val;
            break;
        case OPT_MISSING: if (!cli_value_choice(cmd, opt, val, "fill|keep|error")) return AF_EXIT_USAGE; o.missing = val; break;
        case OPT_OBS: if (!cli_value_choice(cmd, opt, val, "official|site")) return AF_EXIT_USAGE; o.observations = val; break;
        case OPT_EXPERIMENTS: if (!cli_value_choice(cmd, opt, val, "official")) return AF_EXIT_USAGE; o.experiments = 1; break;
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
