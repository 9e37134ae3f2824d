/* SPDX-License-Identifier: MIT */
/*
 * synth_io.h (private): the one text-file helper of the synth writers. A file
 * is written as <path>.partial and published under its final name (fsync,
 * rename) only by af__synth_close, so no half-written file ever carries a
 * final name. Not collective.
 */
#ifndef AF_SYNTH_IO_H
#define AF_SYNTH_IO_H

#include <stdio.h>
#include "agroflux/error.h"

typedef struct af_synth_file {
    FILE *fp;
    char path[4096], tmp[4200];
} af_synth_file;

/** Create dir/rel (directories included) for writing, under its temporary name. */
int af__synth_open(const char *dir, const char *rel, af_synth_file *f, af_error *err);

/** Close, fsync and publish under the final name; AF_EIO on any write error. */
int af__synth_close(af_synth_file *f, af_error *err);

/** If still open: close and remove the temporary file (cleanup paths; NULL-safe). */
void af__synth_abort(af_synth_file *f);

/** Print an integer number of hundredths h as exact decimal text with 2 decimals ("-1.05"). */
void af__synth_put_hundredths(FILE *fp, long h);

#endif
