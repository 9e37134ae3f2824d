/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the agroflux command line. main.c dispatches to one function per
 * subcommand; each returns an exit code (see AF_EXIT_*) and reports errors
 * once, on rank 0 for collective commands, through cli_report.
 */
#ifndef AF_CLI_H
#define AF_CLI_H

#include <stddef.h>
#include <mpi.h>
#include "agroflux/error.h"

enum {
    AF_EXIT_OK = 0,          /* success */
    AF_EXIT_FAILURE = 1,     /* the run or command failed (I/O, data, library) */
    AF_EXIT_USAGE = 2,       /* bad command line or pipeline file */
    AF_EXIT_VERIFY = 3,      /* verify found a mismatch between index and shards */
    AF_EXIT_INTERRUPTED = 4  /* stopped by a signal; rerun with --resume */
};

/* Map an af_status to an exit code. */
int cli_exit_code(int status);
/* Print "agroflux <cmd>: error: ..." (and frames with --debug) to stderr, on rank 0 only. */
void cli_report(const char *cmd, const af_error *err, int rank);
/* 1 if argv[i] is -h or --help. */
int cli_wants_help(int argc, char **argv);
extern int cli_debug;
extern int cli_quiet; /* -q: errors only (no progress lines) */

int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
/* `plan --list-files`: every file of the pipeline, present or missing (cmd_fetch.c). */
int cli_list_files(const char *pipeline, const char *const *sets, size_t nsets);

#endif
