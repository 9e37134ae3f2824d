/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the agroflux command line. Each subcommand is one cli_command: its
 * operands, a table of its options (parsed with getopt_long by cli_opts.c,
 * which also prints its --help from the table), whether it needs MPI, and the
 * function that runs it. main.c holds the list of commands. A command returns
 * an exit code (AF_EXIT_*) and reports errors once, on rank 0 for collective
 * commands, through cli_report.
 *
 * Adding an option: one row in the command's cli_opt table (id, name, value
 * name, help) and one case in its switch. Adding a command: one cli_command in
 * its cmd_*.c file and one line in main.c's list.
 */
#ifndef AF_CLI_H
#define AF_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "agroflux/error.h"

enum {
    AF_EXIT_OK = 0,          /* success */
    AF_EXIT_FAILURE = 1,     /* the run or command failed (I/O, data, library) */
    AF_EXIT_USAGE = 2,       /* bad command line or pipeline file */
    AF_EXIT_VERIFY = 3,      /* verify found a mismatch between index and shards */
    AF_EXIT_INTERRUPTED = 4  /* stopped by a signal; rerun with --resume */
};

/** One option of a command: --name, or --name VALUE / --name=VALUE when metavar is set. */
typedef struct cli_opt {
    int id;               /**< the command's own code for it (> 0) */
    const char *name;     /**< long name without "--"; NULL ends the table */
    const char *metavar;  /**< value name shown in help (e.g. "DIR"); NULL: a flag without value */
    const char *help;     /**< help text; '\n' starts a continuation line */
} cli_opt;

/** Whether a command initialises MPI. */
typedef enum cli_mpi {
    CLI_MPI_NONE = 0,     /**< never: one process, no MPI call (e.g. keys, plan) */
    CLI_MPI_ALWAYS = 1,   /**< before parsing: collective commands (run, export) */
    CLI_MPI_ON_DEMAND = 2 /**< the command calls cli_mpi_start() before MPI-IO (verify, inspect) */
} cli_mpi;

#define CLI_MAX_ARGS 256

/** The parsed command line of one command: options in the order given, then operands. */
typedef struct cli_args {
    size_t nopts;
    struct { const cli_opt *opt; const char *value; } opt[CLI_MAX_ARGS];
    size_t noperands;
    const char *operand[CLI_MAX_ARGS];
} cli_args;

typedef struct cli_command cli_command;
struct cli_command {
    const char *name;
    const char *synopsis;    /**< after "agroflux NAME"; '\n' separates alternative forms */
    const char *summary;     /**< one line for `agroflux --help` */
    const char *description; /**< the help text between the usage and the options */
    const cli_opt *opts;     /**< terminated by a row with name NULL */
    const char *operands;    /**< operand names, space-separated, as the synopsis spells them */
    size_t min_operands, max_operands;
    cli_mpi mpi;
    int (*run)(const cli_command *cmd, const cli_args *args);
};

/* ---- parsing and help (cli_opts.c) ---- */

/**
 * Parse argv[1..argc) for cmd with getopt_long: --opt VALUE, --opt=VALUE, flags, operands
 * (options and operands in any order; "--" ends options). The global options (-h/--help,
 * -v, -q, --debug, --version) are accepted here too. Returns -1 to go on, or the exit code
 * to return now (0 after --help or --version; 2 after a usage error, reported on rank 0 as
 * "agroflux CMD: ...").
 */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *out);
/** Print cmd's help (usage, description, options, global options) to fp. */
void cli_print_help(const cli_command *cmd, FILE *fp);
/** Report a usage error "agroflux CMD: MSG (see 'agroflux CMD --help')" on rank 0; returns AF_EXIT_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Parse an option's value; on a bad value report a usage error naming option and value; 1 if ok. */
int cli_value_long(const cli_command *cmd, const cli_opt *opt, const char *value, long lo, long hi, long *out);
int cli_value_double(const cli_command *cmd, const cli_opt *opt, const char *value, double lo, double hi,
                     double *out);
/** value must be one of choices ("a|b|c"); 1 if it is. */
int cli_value_choice(const cli_command *cmd, const cli_opt *opt, const char *value, const char *choices);

/* ---- process state (main.c) ---- */

/** Initialise MPI if not yet (CLI_MPI_ON_DEMAND commands, before any MPI-IO); 0 if ok. */
int cli_mpi_start(void);
/** This process's rank: 0 until MPI is initialised. */
int cli_rank(void);
/** Set the log level from -v/-q (called by cli_parse). */
void cli_set_verbosity(int verbose, int quiet);

/** Map an af_status to an exit code. */
int cli_exit_code(int status);
/**
 * The exit code of a run or plan of the pipeline file `pipeline`: an error located in that file
 * ("FILE:LINE: ...") or in an --set ("--set '...' (#N ...): ...") whose code names a missing or
 * unreadable file, unknown units or an unopenable dataset is a pipeline-file error (2): the
 * file must change. Otherwise as cli_exit_code.
 */
int cli_pipeline_exit_code(int status, const af_error *err, const char *pipeline);
/** Print "agroflux <cmd>: error: ..." (and frames with --debug) to stderr, on rank 0 only. */
void cli_report(const char *cmd, const af_error *err, int rank);
extern int cli_debug;
extern int cli_quiet; /* -q: errors only (no progress lines) */

/* ---- the commands (one cli_command each) ---- */
extern const cli_command cli_cmd_run, cli_cmd_plan, cli_cmd_verify, cli_cmd_inspect, cli_cmd_synth,
    cli_cmd_keys, cli_cmd_export, cli_cmd_report, cli_cmd_fetch;
/* `plan --list-files`: every file of the pipeline, present or missing (cmd_fetch.c). */
int cli_list_files(const char *pipeline, const char *const *sets, size_t nsets);

/* inspect --stats: print the per variable x kind x year statistics of dir (cmd_stats.c). */
struct af_index;
int cli_print_stats(const char *dir, const struct af_index *idx, int csv, af_error *err);

#endif
