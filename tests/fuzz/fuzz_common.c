/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.c: the private temporary directory and file writing of
 * fuzz_common.h. The directory is removed with its files at normal exit.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"

static char g_dir[4096];

static void remove_dir(void)
{
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        char p[4400];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(g_dir);
}

const char *fz_dir(void)
{
    if (g_dir[0]) return g_dir;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !tmp[0]) tmp = "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/af-fuzz-XXXXXX", tmp);
    if (!mkdtemp(g_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_dir);
    return g_dir;
}

void fz_write(const char *name, const uint8_t *data, size_t size, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", fz_dir(), name);
    FILE *fp = fopen(path, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
        perror("fuzz: writing the input file");
        abort();
    }
}

char *fz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FZ_ASSERT(s != NULL);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fz_rejected(const char *what, const af_error *err)
{
    if (getenv("AF_FUZZ_DEBUG")) fprintf(stderr, "fuzz: %s rejected: %s\n", what, err->msg);
}
