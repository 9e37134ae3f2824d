/* SPDX-License-Identifier: MIT */
/*
 * test_obs_errors.c: every error path of source = tower and source = chamber,
 * through af_pipeline_plan (open-time checks) and af_pipeline_run (a malformed
 * value is found when the block is read): missing site file or chamber, unknown
 * column, bad units, malformed records (file:line and column in the message), and
 * the configuration checks (template without {site}, ambiguous glob, shares
 * outside 0..1, partial-day sums, sign contradiction, chamber_ids syntax, grouped
 * features that disagree). The synth tree comes from af_synth_write and the synth
 * observation writers. Runs on one rank.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "af_test.h"
#include "agroflux/pipeline.h"
#include "agroflux/synth.h"
#include "synth_obs.h"

static char g_dir[256];

static int write_file(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *fp = fopen(p, "w");
    if (!fp) return 1;
    fputs(text, fp);
    return fclose(fp) != 0;
}

static const char *header =
    "[pipeline]\nname = obs-errors\nstart = 2004-01-01\nend = 2004-01-05\ncalendar = standard\noutput = out\n"
    "shard_samples = 4\n\n[sites]\nlist = site_lists/sites.csv\n\n";

/* Write e.ini = header + sections and plan it on one rank. */
static int plan_with(const char *sections, af_error *err)
{
    char text[8192], p[512];
    snprintf(text, sizeof text, "%s%s", header, sections);
    if (write_file("e.ini", text)) return AF_EIO;
    snprintf(p, sizeof p, "%s/e.ini", g_dir);
    af_plan plan;
    int rc = af_pipeline_plan(p, 1, &plan, err);
    if (rc == AF_OK) af_plan_dispose(&plan);
    return rc;
}

static int run_with(const char *sections, af_error *err)
{
    char text[8192], p[512], o[512];
    snprintf(text, sizeof text, "%s%s", header, sections);
    if (write_file("r.ini", text)) return AF_EIO;
    snprintf(p, sizeof p, "%s/r.ini", g_dir);
    snprintf(o, sizeof o, "%s/rout", g_dir);
    af_run_opts opts = AF_RUN_OPTS_INIT;
    opts.output = o;
    af_run_summary sum;
    int rc = af_pipeline_run(MPI_COMM_WORLD, p, &opts, &sum, err);
    af_run_summary_dispose(&sum);
    return rc;
}

#define TOWER(extra) \
    "[target.TA]\nsource = tower\nformat = base\npath = towers/AMF_{site}_BASE_*.csv\nsource_units = degC\n" \
    "units = degC\n" extra
#define CHAMBER(extra) \
    "[target.N2O]\nsource = chamber\npath = chambers/chambers.csv\nsource_units = nmol m-2 s-1\n" \
    "units = g N m-2 d-1\n" extra

static void test_valid_pipelines_plan(void)
{
    AF_TEST_PASS(plan_with(TOWER("") CHAMBER("chamber_ids = US-Sx2:C2\n"), err));
    AF_TEST_PASS(plan_with("[target.TA]\nsource = tower\nformat = base\npath = towers/AMF_{site}_NOPE.csv\n"
                           "source_units = degC\nunits = degC\nmissing_file = missing\n", err));
    AF_TEST_PASS(plan_with(CHAMBER("missing_file = missing\n"), err)); /* US-Sx2 has chamber C2 only */
}

static void test_missing_site_file(void)
{
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no file for site 'US-Sx",
                       plan_with("[target.TA]\nsource = tower\nformat = base\npath = towers/AMF_{site}_NOPE.csv\n"
                                 "source_units = degC\nunits = degC\n", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "towers/AMF_US-Sx1_NOPE.csv'",
                       plan_with("[target.TA]\nsource = tower\nformat = base\npath = towers/AMF_{site}_NOPE.csv\n"
                                 "source_units = degC\nunits = degC\n", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "chambers/none_US-Sx1.csv'",
                       plan_with("[target.N2O]\nsource = chamber\npath = chambers/none_{site}.csv\n"
                                 "source_units = nmol m-2 s-1\nunits = g N m-2 d-1\n", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no chamber 'US-Sx2'", plan_with(CHAMBER(""), err));
}

static void test_unknown_column(void)
{
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no column 'NOPE'", plan_with(TOWER("column = NOPE\n"), err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no column 'NEE_QC'", plan_with(TOWER("qc_column = NEE_QC\n"), err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no column 'n2o'",
                       plan_with(CHAMBER("column = n2o\nchamber_ids = US-Sx2:C2\n"), err));
}

static void test_bad_units(void)
{
    AF_TEST_FAILS_WITH(AF_EUNITS, "unknown units 'furlongs'",
                       plan_with("[target.TA]\nsource = tower\nformat = base\npath = towers/AMF_{site}_BASE_*.csv\n"
                                 "source_units = furlongs\nunits = degC\n", err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "cannot convert",
                       plan_with("[target.TA]\nsource = tower\nformat = base\npath = towers/AMF_{site}_BASE_*.csv\n"
                                 "source_units = degC\nunits = g C m-2 d-1\n", err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "needs umol m-2 s-1",
                       plan_with("[target.FC]\nsource = tower\nformat = base\npath = towers/AMF_{site}_BASE_*.csv\n"
                                 "aggregation = co2flux\nsource_units = g C m-2 d-1\nunits = g C m-2 d-1\n", err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "daily (DD) file",
                       plan_with("[target.GPP]\nsource = tower\nformat = fullset\n"
                                 "path = fluxnet/FLX_{site}_FLUXNET2015_FULLSET_DD_*.csv\ncolumn = GPP_NT_VUT_REF\n"
                                 "source_units = umol m-2 s-1\nunits = g C m-2 d-1\n", err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "unknown chamber flux unit 'mg N m-2 h-1'",
                       plan_with("[target.N2O]\nsource = chamber\npath = chambers/chambers.csv\n"
                                 "source_units = mg N m-2 h-1\nunits = g N m-2 d-1\n", err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "daily chamber fluxes are g N m-2 d-1",
                       plan_with("[target.N2O]\nsource = chamber\npath = chambers/chambers.csv\n"
                                 "source_units = nmol m-2 s-1\nunits = degC\nchamber_ids = US-Sx2:C2\n", err));
}

static void test_malformed_records(void)
{
    /* Bad timestamp: found when the file is opened (plan). Line 6 = 2 '#' + header + 3 records. */
    write_file("bad/AMF_US-Sx1_BASE_HH_1.csv",
               "# Site: US-Sx1\n# bad\nTIMESTAMP_START,TIMESTAMP_END,TA\n200401010000,200401010030,1\n"
               "200401010030,200401010100,2\n200401010100,200401010130,3\n2004010101x0,200401010200,4\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "AMF_US-Sx1_BASE_HH_1.csv:7: column 'TIMESTAMP_START': bad timestamp '2004010101x0'",
                       plan_with("[target.TA]\nsource = tower\nformat = base\npath = bad/AMF_{site}_BASE_HH_1.csv\n"
                                 "source_units = degC\nunits = degC\nmissing_file = missing\n", err));
    /* Bad number: found when the block is read (run). */
    write_file("bad2/AMF_US-Sx1_BASE_HH_1.csv",
               "# Site: US-Sx1\nTIMESTAMP_START,TIMESTAMP_END,TA\n200401010000,200401010030,1\n"
               "200401010030,200401010100,abc\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "AMF_US-Sx1_BASE_HH_1.csv:4: column 'TA': bad number 'abc'",
                       run_with("[target.TA]\nsource = tower\nformat = base\npath = bad2/AMF_{site}_BASE_HH_1.csv\n"
                                "source_units = degC\nunits = degC\nmissing_file = missing\n", err));
    write_file("bad/chambers.csv", "chamber,timestamp,flux\nUS-Sx1,2004-01-01 00:00,1.5\nUS-Sx1,2004-13-01 00:00,2\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "chambers.csv:3: column 'timestamp': bad timestamp '2004-13-01 00:00'",
                       plan_with("[target.N2O]\nsource = chamber\npath = bad/chambers.csv\nsource_units = nmol m-2 s-1\n"
                                 "units = g N m-2 d-1\nmissing_file = missing\n", err));
    /* The seconds field and the compact form are read by the same digit reader: both range-checked. */
    write_file("bad/chambers3.csv", "chamber,timestamp,flux\nUS-Sx1,2004-01-01T00:00:59,1.5\nUS-Sx1,2004-01-01 00:10:60,2\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "chambers3.csv:3: column 'timestamp': bad timestamp '2004-01-01 00:10:60'",
                       plan_with("[target.N2O]\nsource = chamber\npath = bad/chambers3.csv\nsource_units = nmol m-2 s-1\n"
                                 "units = g N m-2 d-1\nmissing_file = missing\n", err));
    write_file("bad/chambers4.csv", "chamber,timestamp,flux\nUS-Sx1,200401012330,1.5\nUS-Sx1,200401012400,2\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "chambers4.csv:3: column 'timestamp': bad timestamp '200401012400'",
                       plan_with("[target.N2O]\nsource = chamber\npath = bad/chambers4.csv\nsource_units = nmol m-2 s-1\n"
                                 "units = g N m-2 d-1\nmissing_file = missing\n", err));
    write_file("bad/chambers2.csv", "chamber,timestamp,flux\nUS-Sx1,2004-01-01 00:00,1.5x\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "chambers2.csv:2: column 'flux': bad number '1.5x'",
                       plan_with("[target.N2O]\nsource = chamber\npath = bad/chambers2.csv\nsource_units = nmol m-2 s-1\n"
                                 "units = g N m-2 d-1\nmissing_file = missing\n", err));
}

static void test_config_checks(void)
{
    AF_TEST_FAILS_WITH(AF_ECONFIG, "needs {site}",
                       plan_with("[target.TA]\nsource = tower\nformat = base\npath = towers/AMF_US-Sx1_BASE_HH_1-5.csv\n"
                                 "source_units = degC\nunits = degC\n", err));
    write_file("dup/AMF_US-Sx1_BASE_HH_1-5.csv", "x\n");
    write_file("dup/AMF_US-Sx1_BASE_HH_1-6.csv", "x\n");
    AF_TEST_FAILS_WITH(AF_ECONFIG, "matches 2 files",
                       plan_with("[target.TA]\nsource = tower\nformat = base\npath = dup/AMF_{site}_BASE_*.csv\n"
                                 "source_units = degC\nunits = degC\nmissing_file = missing\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "min_coverage: '1.5' is not a share", plan_with(TOWER("min_coverage = 1.5\n"), err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "qc_threshold: '-1' is not a share", plan_with(TOWER("qc_threshold = -1\n"), err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "partial-day sum",
                       plan_with(TOWER("aggregation = sum\ngap = coverage\n"), err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "contradicts",
                       plan_with(CHAMBER("chamber_ids = US-Sx2:C2\nsign = negative = emission\n"), err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "'US-Sx2' is not SITE:CHAMBER", plan_with(CHAMBER("chamber_ids = US-Sx2\n"), err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "min_hours: '25' is not in 1..24",
                       plan_with(CHAMBER("chamber_ids = US-Sx2:C2\nmin_hours = 25\n"), err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "format: differs from [target.TA]",
                       plan_with(TOWER("") "[target.TB]\nsource = tower\nformat = fullset\n"
                                 "path = towers/AMF_{site}_BASE_*.csv\nsource_units = degC\nunits = degC\n", err));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    snprintf(g_dir, sizeof g_dir, "/tmp/af-obs-errors-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); MPI_Finalize(); return 1; }
    af_synth_opts o = AF_SYNTH_OPTS_INIT;
    o.ncounties = 2;
    o.nscenarios = 1;
    o.nsites = 2;
    o.year0 = o.year1 = 2004;
    o.write_pipeline = 0;
    o.parts = AF_SYNTH_PART_TABLES | AF_SYNTH_PART_OBS;
    af_error e = AF_ERROR_INIT;
    char p[512];
    if (af_synth_write(g_dir, &o, &e) != AF_OK) {
        fprintf(stderr, "synth: %s\n", e.msg);
        MPI_Finalize();
        return 1;
    }
    static const char *const sub[] = { "bad", "bad2", "dup" };
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, sub[i]);
        if (mkdir(p, 0755) != 0) { perror(p); MPI_Finalize(); return 1; }
    }
    AF_RUN(test_valid_pipelines_plan);
    AF_RUN(test_missing_site_file);
    AF_RUN(test_unknown_column);
    AF_RUN(test_bad_units);
    AF_RUN(test_malformed_records);
    AF_RUN(test_config_checks);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf %s", g_dir);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    MPI_Finalize();
    return AF_TEST_END();
}
