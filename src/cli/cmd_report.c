/* SPDX-License-Identifier: MIT */
/*
 * cmd_report.c: `agroflux report OUTDIR [-o report.html] [--pipeline INI |
 * --counties LAYER]`: one self-contained HTML page about an output. The page
 * is drawn by the Python helper python/agroflux/report.py (numpy, netCDF4,
 * matplotlib, GDAL's Python bindings); this command finds the helper and an
 * interpreter that has those modules, resolves the county layer from the
 * pipeline file, and runs it. One process.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agroflux/config.h"
#include "cli.h"

#ifndef AF_PYTHON_SOURCE_DIR
#define AF_PYTHON_SOURCE_DIR ""
#endif
#ifndef AF_PYTHON_INSTALL_DIR
#define AF_PYTHON_INSTALL_DIR ""
#endif

extern char **environ;

enum { OPT_OUTPUT = 1, OPT_PIPELINE, OPT_COUNTIES };

static const cli_opt report_opts[] = {
    { OPT_OUTPUT, "output", "FILE", "the HTML file to write (default OUTDIR/report.html)" },
    { OPT_PIPELINE, "pipeline", "INI", "take the county polygons from this pipeline file's [counties] layer" },
    { OPT_COUNTIES, "counties", "LAYER", "take the county polygons from this vector file (GeoJSON,\n"
      "GeoPackage, shapefile; the FIPS in its GEOID, FIPS or id_field column)" },
    { 0, NULL, NULL, NULL }
};

static int report_main(const cli_command *cmd, const cli_args *a);

const cli_command cli_cmd_report = {
    .name = "report",
    .synopsis = "OUTDIR [--output FILE] [--pipeline INI | --counties LAYER]",
    .summary = "one self-contained HTML page about an output (stats, gaps, series, maps, splits)",
    .description =
        "Writes one self-contained HTML file (no network; images inline): provenance, the\n"
        "`inspect --stats` table, missing-data heat maps (variable x year), daily series of a few\n"
        "samples of each kind, a county map of a few variables and the split and fold layout.\n"
        "The map needs the county polygons (--pipeline or --counties); without them the page says\n"
        "so. Drawn by the Python helper agroflux/report.py: needs python3 with numpy, netCDF4,\n"
        "matplotlib and osgeo (Debian: python3-netcdf4 python3-matplotlib python3-gdal).\n"
        "AGROFLUX_PYTHON3 names the interpreter (default: python3 on PATH, then /usr/bin/python3),\n"
        "AGROFLUX_PYTHONPATH the directory holding the agroflux package (default: PREFIX/share/\n"
        "agroflux/python next to the executable, the install prefix, the source tree). One process.\n",
    .opts = report_opts,
    .operands = "OUTDIR",
    .min_operands = 1, .max_operands = 1,
    .mpi = CLI_MPI_NONE,
    .run = report_main,
};

/* Run argv, wait, return its exit status (-1 if it could not start). quiet: output to /dev/null. */
static int run_wait(char *const argv[], int quiet)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The directory that holds agroflux/report.py: $AGROFLUX_PYTHONPATH, EXEDIR/../share/agroflux/python,
 * the configured install dir, the source tree. */
static int find_helper(char *dir, size_t n)
{
    char exe[PATH_MAX], cand[4][PATH_MAX + 64], probe[sizeof cand[0] + 32];
    int nc = 0;
    const char *env = getenv("AGROFLUX_PYTHONPATH");
    if (env && *env) snprintf(cand[nc++], sizeof cand[0], "%s", env);
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        snprintf(cand[nc++], sizeof cand[0], "%s/../share/agroflux/python", exe);
    }
    if (AF_PYTHON_INSTALL_DIR[0]) snprintf(cand[nc++], sizeof cand[0], "%s", AF_PYTHON_INSTALL_DIR);
    if (AF_PYTHON_SOURCE_DIR[0]) snprintf(cand[nc++], sizeof cand[0], "%s", AF_PYTHON_SOURCE_DIR);
    for (int i = 0; i < nc; i++) {
        size_t cl = strnlen(cand[i], sizeof cand[0]);
        if (cl + sizeof "/agroflux/report.py" > sizeof probe) continue;
        memcpy(probe, cand[i], cl);
        memcpy(probe + cl, "/agroflux/report.py", sizeof "/agroflux/report.py");
        if (is_file(probe) && cl < n) {
            memcpy(dir, cand[i], strlen(cand[i]) + 1);
            return 1;
        }
        if (env && *env && i == 0) return 0; /* an explicit path that lacks the helper is an error */
    }
    return 0;
}

/* An interpreter that imports what the helper needs: $AGROFLUX_PYTHON3, else python3, /usr/bin/python3. */
static const char *find_python(void)
{
    static const char *const defaults[] = { "python3", "/usr/bin/python3", NULL };
    const char *env = getenv("AGROFLUX_PYTHON3");
    const char *const *cands = defaults;
    const char *one[2] = { env, NULL };
    if (env && *env) cands = one;
    for (int i = 0; cands[i]; i++) {
        char *argv[] = { (char *)cands[i], "-c", "import numpy, netCDF4, matplotlib, osgeo.ogr", NULL };
        if (run_wait(argv, 1) == 0) return cands[i];
    }
    return NULL;
}

/* [counties] layer of a pipeline file, resolved ({root}, relative paths). */
static int county_layer(const char *ini, char *out, size_t n, af_error *err)
{
    af_config *cfg = NULL;
    int rc = af_config_load(ini, &cfg, err);
    if (rc != AF_OK) return rc;
    if (!cfg->has_counties) out[0] = '\0';
    else snprintf(out, n, "%s", cfg->county_layer);
    af_config_destroy(&cfg);
    return AF_OK;
}

static int report_main(const cli_command *cmd, const cli_args *a)
{
    const char *dir = a->operand[0], *outfile = NULL, *ini = NULL, *layer = NULL;
    for (size_t i = 0; i < a->nopts; i++) {
        switch (a->opt[i].opt->id) {
        case OPT_OUTPUT: outfile = a->opt[i].value; break;
        case OPT_PIPELINE: ini = a->opt[i].value; break;
        case OPT_COUNTIES: layer = a->opt[i].value; break;
        }
    }
    if (ini && layer) return cli_usage_error(cmd, "--pipeline and --counties exclude each other");
    char pydir[PATH_MAX + 64], lay[4096] = "", self[PATH_MAX], defout[4200];
    if (!find_helper(pydir, sizeof pydir)) {
        fprintf(stderr, "agroflux report: error: cannot find the report helper agroflux/report.py (set "
                        "AGROFLUX_PYTHONPATH to the directory that holds the agroflux package)\n");
        return AF_EXIT_FAILURE;
    }
    const char *py = find_python();
    if (!py) {
        fprintf(stderr, "agroflux report: error: no python3 with numpy, netCDF4, matplotlib and osgeo (GDAL) "
                        "found (tried %s); install them (Debian: apt-get install python3-numpy python3-netcdf4 "
                        "python3-matplotlib python3-gdal) or set AGROFLUX_PYTHON3\n",
                getenv("AGROFLUX_PYTHON3") && *getenv("AGROFLUX_PYTHON3") ? getenv("AGROFLUX_PYTHON3")
                                                                          : "python3, /usr/bin/python3");
        return AF_EXIT_FAILURE;
    }
    if (ini) {
        af_error err = AF_ERROR_INIT;
        int rc = county_layer(ini, lay, sizeof lay, &err);
        if (rc != AF_OK) {
            cli_report("report", &err, 0);
            return cli_exit_code(rc);
        }
    } else if (layer) {
        snprintf(lay, sizeof lay, "%s", layer);
    }
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) snprintf(self, sizeof self, "agroflux");
    else self[len] = '\0';
    if (!outfile) {
        snprintf(defout, sizeof defout, "%s/report.html", dir);
        outfile = defout;
    }
    /* python3 -c "import sys; sys.path.insert(0, PYDIR); from agroflux.report import main; main()" ARGS */
    char code[PATH_MAX + 256];
    snprintf(code, sizeof code, "import sys; sys.path.insert(0, %s%s%s); from agroflux.report import main; main()",
             "'", pydir, "'");
    if (strchr(pydir, '\'')) {
        fprintf(stderr, "agroflux report: error: helper directory '%s' contains a quote\n", pydir);
        return AF_EXIT_FAILURE;
    }
    char *args[16];
    int n = 0;
    args[n++] = (char *)py;
    args[n++] = "-c";
    args[n++] = code;
    args[n++] = (char *)dir;
    args[n++] = "-o";
    args[n++] = (char *)outfile;
    args[n++] = "--agroflux";
    args[n++] = self;
    if (lay[0]) {
        args[n++] = "--counties";
        args[n++] = lay;
    }
    args[n] = NULL;
    int st = run_wait(args, 0);
    if (st != 0) {
        fprintf(stderr, "agroflux report: error: the report helper (%s %s/agroflux/report.py) failed%s\n", py, pydir,
                st < 0 ? " to start" : "");
        return st == 2 ? AF_EXIT_USAGE : AF_EXIT_FAILURE;
    }
    return AF_EXIT_OK;
}
