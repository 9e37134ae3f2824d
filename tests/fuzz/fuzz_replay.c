/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay.c: a main() for the harnesses when they are not linked with
 * libFuzzer (any compiler): runs LLVMFuzzerTestOneInput once on every file
 * named on the command line or found in a named directory (not recursive,
 * sorted by name, hidden files skipped). Used by the fuzz-replay-* tests to run
 * the seed corpora and the regression inputs in every build, sanitized or not.
 * It also holds the parsers to "library code never prints to stdout and never
 * exits": stdout goes to a temporary file while the inputs run and must stay
 * empty, and an exit() from inside an input fails.
 * Exit 0 when every input ran (a finding aborts), 1 on a usage or read error, a
 * print to stdout or an exit.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

static const char *g_current; /* the input being run, NULL between inputs */

static void exit_during_input(void)
{
    if (!g_current) return;
    fprintf(stderr, "fuzz-replay: exit() called while running '%s'\n", g_current);
    _exit(1);
}

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) { fprintf(stderr, "fuzz-replay: cannot open '%s'\n", path); return 1; }
    size_t cap = 4096, len = 0, got;
    uint8_t *buf = malloc(cap);
    if (!buf) { fclose(fp); return 1; }
    while ((got = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); fclose(fp); return 1; }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) { free(buf); fprintf(stderr, "fuzz-replay: read error on '%s'\n", path); return 1; }
    g_current = path;
    LLVMFuzzerTestOneInput(buf, len);
    g_current = NULL;
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "fuzz-replay: cannot open directory '%s'\n", dir); return 1; }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn) { rc = 1; break; }
        names = nn;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) { rc = 1; break; }
        snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        if (!rc) { rc = run_file(names[i]); (*count)++; }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 0, rc = 0;
    if (argc < 2) { fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]); return 1; }
    /* stdout into an unlinked temporary file while the inputs run */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *capture = tmpfile();
    if (saved < 0 || !capture || dup2(fileno(capture), STDOUT_FILENO) < 0) {
        fprintf(stderr, "fuzz-replay: cannot capture stdout\n");
        return 1;
    }
    atexit(exit_during_input);
    for (int i = 1; i < argc && !rc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { fprintf(stderr, "fuzz-replay: no such file '%s'\n", argv[i]); rc = 1; break; }
        rc = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : (count++, run_file(argv[i]));
    }
    fflush(stdout);
    long printed = (long)lseek(fileno(capture), 0, SEEK_END);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    fclose(capture);
    if (rc) return 1;
    if (printed > 0) { fprintf(stderr, "fuzz-replay: the code under test printed %ld bytes to stdout\n", printed); return 1; }
    if (count == 0) { fprintf(stderr, "fuzz-replay: no inputs\n"); return 1; }
    printf("fuzz-replay: %d inputs ran\n", count);
    return 0;
}
