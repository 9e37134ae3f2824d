/* SPDX-License-Identifier: MIT */
/*
 * synth_obs_tree.c: writes a synthetic tree for the observation tests:
 * af_synth_write (counties, site lists; no pipeline) and the synth tower and
 * chamber files (src/synth/synth_obs.h).
 * Usage: synth_obs_tree DIR NCOUNTIES NSITES YEAR0 YEAR1
 */
#include <stdio.h>
#include <stdlib.h>

#include "agroflux/synth.h"
#include "synth_obs.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s DIR NCOUNTIES NSITES YEAR0 YEAR1\n", argv[0]);
        return 2;
    }
    af_synth_opts o = AF_SYNTH_OPTS_INIT;
    o.ncounties = atoi(argv[2]);
    o.nscenarios = 1;
    o.nsites = atoi(argv[3]);
    o.year0 = atoi(argv[4]);
    o.year1 = atoi(argv[5]);
    o.write_pipeline = 0;
    o.parts = AF_SYNTH_PART_TABLES | AF_SYNTH_PART_OBS;
    af_error err = AF_ERROR_INIT;
    if (af_synth_write(argv[1], &o, &err) != AF_OK) {
        char buf[4096];
        af_error_format(&err, 1, buf, sizeof buf);
        fprintf(stderr, "%s\n", buf);
        return 1;
    }
    return 0;
}
