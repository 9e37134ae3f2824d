/* SPDX-License-Identifier: MIT */
/*
 * cli_opts.c: one option parser and one help printer for every command
 * (cli.h). getopt_long (libc) does the parsing from the command's cli_opt
 * table plus the global options; this file turns its error returns into one
 * message style ("agroflux CMD: unknown option '--x' ...", exit 2) and prints
 * --help from the same table, so help and parser cannot disagree.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_util.h"
#include "cli.h"

enum { G_HELP = -1, G_VERSION = -2, G_VERBOSE = -3, G_QUIET = -4, G_DEBUG = -5 };

/* Accepted by every command (and before the command name, main.c). */
static const cli_opt global_opts[] = {
    { G_HELP, "help", NULL, "this help" },
    { G_VERSION, "version", NULL, "print the version" },
    { G_VERBOSE, "verbose", NULL, "more log (debug messages)" },
    { G_QUIET, "quiet", NULL, "errors only (no progress lines)" },
    { G_DEBUG, "debug", NULL, "error messages with their frames (file, line, function)" },
    { 0, NULL, NULL, NULL }
};

#define MAX_OPTS 96
#define VAL_BASE 256 /* getopt_long val of table entry i: VAL_BASE + i */

static size_t count_opts(const cli_opt *t)
{
    size_t n = 0;
    while (t && t[n].name) n++;
    return n;
}

/* Command options then global options, as one list. */
static size_t collect(const cli_command *cmd, const cli_opt **all)
{
    size_t n = 0;
    for (size_t i = 0; i < count_opts(cmd->opts) && n < MAX_OPTS; i++) all[n++] = &cmd->opts[i];
    for (size_t i = 0; global_opts[i].name && n < MAX_OPTS; i++) all[n++] = &global_opts[i];
    return n;
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    if (cli_rank() != 0) return AF_EXIT_USAGE;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "agroflux %s: %s (see 'agroflux %s --help')\n", cmd->name, msg, cmd->name);
    return AF_EXIT_USAGE;
}

/* "--name" of argv text "--name=value" (or "-x"), into buf. */
static const char *option_text(const char *arg, char *buf, size_t n)
{
    size_t len = strcspn(arg, "=");
    snprintf(buf, n, "%.*s", (int)len, arg);
    return buf;
}

/* An unknown, ambiguous or misused option: one message, with a suggestion when one name is close. */
static int report_bad_option(const cli_command *cmd, const cli_opt *const *all, size_t n, const char *arg,
                             int optopt_val)
{
    char text[256];
    if (optopt_val >= VAL_BASE && (size_t)(optopt_val - VAL_BASE) < n)
        return cli_usage_error(cmd, "option '--%s' takes no value", all[optopt_val - VAL_BASE]->name);
    if (optopt_val > 0 && optopt_val < VAL_BASE) return cli_usage_error(cmd, "unknown option '-%c'", optopt_val);
    option_text(arg, text, sizeof text);
    const char *name = text + (strncmp(text, "--", 2) ? 0 : 2);
    char cands[512] = "";
    size_t ncand = 0;
    for (size_t i = 0; i < n; i++) {
        if (name[0] && !strncmp(all[i]->name, name, strlen(name))) {
            size_t l = strlen(cands);
            snprintf(cands + l, sizeof cands - l, "%s--%s", ncand ? ", " : "", all[i]->name);
            ncand++;
        }
    }
    if (ncand > 1) return cli_usage_error(cmd, "ambiguous option '%s' (%s)", text, cands);
    for (size_t i = 0; i < n; i++)
        if (af_one_edit_apart(all[i]->name, name))
            return cli_usage_error(cmd, "unknown option '%s' (did you mean --%s?)", text, all[i]->name);
    return cli_usage_error(cmd, "unknown option '%s'", text);
}

static int global_option(const cli_command *cmd, int id)
{
    switch (id) {
    case G_HELP: if (cli_rank() == 0) cli_print_help(cmd, stdout); return AF_EXIT_OK;
    case G_VERSION: if (cli_rank() == 0) printf("agroflux %s\n", AF_VERSION); return AF_EXIT_OK;
    case G_VERBOSE: cli_set_verbosity(1, 0); break;
    case G_QUIET: cli_set_verbosity(0, 1); break;
    case G_DEBUG: cli_debug = 1; break;
    }
    return -1;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *out)
{
    const cli_opt *all[MAX_OPTS];
    struct option lo[MAX_OPTS + 1];
    size_t n = collect(cmd, all);
    memset(out, 0, sizeof *out);
    memset(lo, 0, sizeof lo);
    for (size_t i = 0; i < n; i++) {
        lo[i].name = all[i]->name;
        lo[i].has_arg = all[i]->metavar ? required_argument : no_argument;
        lo[i].val = VAL_BASE + (int)i;
    }
    opterr = 0;
    optind = 0; /* glibc: start over */
    int help = 0, version = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":hvq", lo, NULL);
        if (c == -1) break;
        if (c == '?') return report_bad_option(cmd, all, n, argv[optind - 1], optopt);
        if (c == ':') {
            const cli_opt *o = optopt >= VAL_BASE ? all[optopt - VAL_BASE] : NULL;
            if (!o) return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
            return cli_usage_error(cmd, "option '--%s' needs a value (--%s %s)", o->name, o->name, o->metavar);
        }
        const cli_opt *o = c == 'h' ? &global_opts[0] : c == 'v' ? &global_opts[2] : c == 'q' ? &global_opts[3]
                                                                                             : all[c - VAL_BASE];
        if (o->id == G_HELP) help = 1;
        else if (o->id == G_VERSION) version = 1;
        else if (o->id < 0) global_option(cmd, o->id);
        else {
            if (out->nopts >= CLI_MAX_ARGS) return cli_usage_error(cmd, "more than %d options", CLI_MAX_ARGS);
            out->opt[out->nopts].opt = o;
            out->opt[out->nopts].value = o->metavar ? optarg : NULL;
            out->nopts++;
        }
    }
    /* --help wins over everything else on the line, then --version */
    if (help) return global_option(cmd, G_HELP);
    if (version) return global_option(cmd, G_VERSION);
    for (int i = optind; i < argc; i++) {
        if (out->noperands >= cmd->max_operands)
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        out->operand[out->noperands++] = argv[i];
    }
    if (out->noperands < cmd->min_operands) {
        /* name the first missing operand: word noperands of cmd->operands */
        const char *w = cmd->operands ? cmd->operands : "";
        for (size_t k = 0; k < out->noperands && *w; k++) w += strcspn(w, " ") + (w[strcspn(w, " ")] ? 1 : 0);
        return cli_usage_error(cmd, "missing operand %.*s", (int)strcspn(w, " "), w);
    }
    return -1;
}

/* One option line: "  --name VALUE" padded, then help; continuation lines indented. */
static void print_opt(FILE *fp, const cli_opt *o)
{
    char left[128];
    char shortopt = o->id == G_HELP ? 'h' : o->id == G_VERBOSE ? 'v' : o->id == G_QUIET ? 'q' : 0;
    if (shortopt) snprintf(left, sizeof left, "  -%c, --%s", shortopt, o->name);
    else snprintf(left, sizeof left, "  --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
    const int col = 30;
    fputs(left, fp);
    int pad = col - (int)strlen(left);
    if (pad < 2) { fputc('\n', fp); pad = col; }
    const char *h = o->help;
    for (;;) {
        size_t len = strcspn(h, "\n");
        fprintf(fp, "%*s%.*s\n", pad, "", (int)len, h);
        if (!h[len]) break;
        h += len + 1;
        pad = col;
    }
}

void cli_print_help(const cli_command *cmd, FILE *fp)
{
    const char *s = cmd->synopsis;
    for (int first = 1;; first = 0) {
        size_t len = strcspn(s, "\n");
        size_t sp = strspn(s, " ");
        if (sp) /* a continuation of the line above, under its first operand */
            fprintf(fp, "%*s%.*s\n", (int)strlen(cmd->name) + 17, "", (int)(len - sp), s + sp);
        else
            fprintf(fp, "%s agroflux %s %.*s\n", first ? "usage:" : "      ", cmd->name, (int)len, s);
        if (!s[len]) break;
        s += len + 1;
    }
    fprintf(fp, "\n%s", cmd->description);
    if (count_opts(cmd->opts)) {
        fputs("\noptions:\n", fp);
        for (const cli_opt *o = cmd->opts; o->name; o++) print_opt(fp, o);
    }
    fputs("\nglobal options (any command):\n", fp);
    for (const cli_opt *o = global_opts; o->name; o++) print_opt(fp, o);
    fputs("\nexit codes: 0 ok, 1 failure, 2 usage or pipeline-file error, 3 verify mismatch,\n"
          "            4 interrupted (resumable)\n", fp);
}

int cli_value_long(const cli_command *cmd, const cli_opt *opt, const char *value, long lo, long hi, long *out)
{
    long v;
    if (!af_parse_long(value, &v) || v < lo || v > hi)
        return cli_usage_error(cmd, "--%s '%s': expected an integer in %ld..%ld", opt->name, value, lo, hi), 0;
    *out = v;
    return 1;
}

int cli_value_double(const cli_command *cmd, const cli_opt *opt, const char *value, double lo, double hi,
                     double *out)
{
    double v;
    if (!af_parse_double(value, &v) || !(v >= lo && v <= hi))
        return cli_usage_error(cmd, "--%s '%s': expected a number in %g..%g", opt->name, value, lo, hi), 0;
    *out = v;
    return 1;
}

int cli_value_choice(const cli_command *cmd, const cli_opt *opt, const char *value, const char *choices)
{
    size_t len = strlen(value);
    for (const char *c = choices; *c;) {
        size_t cl = strcspn(c, "|");
        if (cl == len && !strncmp(c, value, len)) return 1;
        c += cl + (c[cl] ? 1 : 0);
    }
    /* "a|b|c" shown as "a, b or c" */
    char shown[256] = "";
    size_t used = 0;
    for (const char *c = choices; *c && used < sizeof shown;) {
        size_t cl = strcspn(c, "|");
        const char *sep = c == choices ? "" : c[cl] ? ", " : " or ";
        used += (size_t)snprintf(shown + used, sizeof shown - used, "%s%.*s", sep, (int)cl, c);
        c += cl + (c[cl] ? 1 : 0);
    }
    cli_usage_error(cmd, "--%s '%s': expected %s", opt->name, value, shown);
    return 0;
}
