/* SPDX-License-Identifier: MIT */
/*
 * fixture_files.h: a private temp directory (mkdtemp) for the unit tests of
 * config and the table source, helpers to write text files into it, and a
 * tiny hand-written county layer: two unit squares side by side (CRS84),
 * GEOID 19001 (west) and 19003 (east), plus a site list with two towers.
 */
#ifndef AF_TEST_FIXTURE_FILES_H
#define AF_TEST_FIXTURE_FILES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fx_tmp[256];

static const char fx_counties_geojson[] =
    "{\n"
    "\"type\": \"FeatureCollection\",\n"
    "\"name\": \"counties\",\n"
    "\"crs\": { \"type\": \"name\", \"properties\": { \"name\": \"urn:ogc:def:crs:OGC:1.3:CRS84\" } },\n"
    "\"features\": [\n"
    "{ \"type\": \"Feature\", \"properties\": { \"GEOID\": \"19001\", \"NAME\": \"West\" },\n"
    "  \"geometry\": { \"type\": \"Polygon\", \"coordinates\": [ [ [ -94.0, 42.0 ], [ -93.0, 42.0 ], [ -93.0, 43.0 ], [ -94.0, 43.0 ], [ -94.0, 42.0 ] ] ] } },\n"
    "{ \"type\": \"Feature\", \"properties\": { \"GEOID\": \"19003\", \"NAME\": \"East\" },\n"
    "  \"geometry\": { \"type\": \"Polygon\", \"coordinates\": [ [ [ -93.0, 42.0 ], [ -92.0, 42.0 ], [ -92.0, 43.0 ], [ -93.0, 43.0 ], [ -93.0, 42.0 ] ] ] } }\n"
    "]\n"
    "}\n";

static const char fx_sites_csv[] =
    "site_id,name,lat,lon\n"
    "US-Aa1,tower one,42.5,-93.5\n"
    "US-Bb2,tower two,42.5,-92.5\n";

/* Path of name inside the temp dir (rotating static buffers). */
static inline const char *fx_path(const char *name)
{
    static char buf[8][1024];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fx_tmp, name);
    return buf[k];
}

/* Write text to name inside the temp dir (creating one level of subdirectory if needed). */
static inline const char *fx_write(const char *name, const char *text)
{
    const char *p = fx_path(name);
    const char *slash = strchr(name, '/');
    if (slash) {
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%.*s", fx_tmp, (int)(slash - name), name);
        mkdir(sub, 0755);
    }
    FILE *fp = fopen(p, "w");
    if (!fp) {
        fprintf(stderr, "cannot write %s\n", p);
        return p;
    }
    fputs(text, fp);
    fclose(fp);
    return p;
}

static inline int fx_exists(const char *name)
{
    struct stat st;
    return stat(fx_path(name), &st) == 0;
}

/* rm -r of a directory tree (private temp dir only). */
static inline void fx_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4096];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p) continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) fx_rmtree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline int fx_setup(const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(fx_tmp, sizeof fx_tmp, "%s/af-%s-XXXXXX", base && base[0] ? base : "/tmp", tag);
    if (!mkdtemp(fx_tmp)) {
        perror("mkdtemp");
        return -1;
    }
    fx_write("counties.geojson", fx_counties_geojson);
    fx_write("sites.csv", fx_sites_csv);
    return 0;
}

#endif
