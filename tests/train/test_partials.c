/* SPDX-License-Identifier: MIT */
/*
 * test_partials.c: the scaler partials a run feeds from its written blocks
 * (af_train_partials_*, af_train_extra_from): nothing made without [splits],
 * blocks only in day order, and af_train_extra_from refusing partials of other
 * samples or fewer days. That the scalers they give equal an independent
 * two-pass computation is checked end to end by tests/train/test_train.py.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "af_test.h"
#include "agroflux/train.h"

static af_config config(int splits)
{
    af_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.start = (af_date){ 2003, 1, 1 };
    cfg.end = (af_date){ 2004, 12, 31 };
    cfg.calendar = AF_CAL_NOLEAP; /* 730 days */
    cfg.shard_samples = 8;
    cfg.splits.present = splits;
    return cfg;
}

static void test_partials__none_without_splits(void)
{
    af_config cfg = config(0);
    af_train_partials *p = (af_train_partials *)&cfg; /* must be reset to NULL */
    AF_TEST_PASS(af_train_partials_create(&cfg, 0, 4, 1, 1, &p, err));
    AF_EXPECT(p == NULL);
    AF_TEST_PASS(af_train_partials_add(NULL, 5, 3, NULL, NULL, err)); /* NULL: no-op */
    af_train_partials_destroy(&p);
}

static void test_partials__day_order_and_mismatch(void)
{
    af_config cfg = config(1);
    af_train_partials *p = NULL;
    enum { NS = 2, NT = 100 };
    float x[NS * NT], y[NS * NT];
    for (int i = 0; i < NS * NT; i++) {
        x[i] = (float)i;
        y[i] = i % 7 ? (float)(0.5 * i) : NAN;
    }
    AF_TEST_PASS(af_train_partials_create(&cfg, 5, NS, 1, 1, &p, err));
    AF_EXPECT(p != NULL);
    AF_TEST_FAILS_WITH(AF_EINVAL, "days 1..101 after 0 of 730", af_train_partials_add(p, 1, NT, x, y, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "x != NULL", af_train_partials_add(p, 0, NT, NULL, y, err));
    AF_TEST_PASS(af_train_partials_add(p, 0, NT, x, y, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "day order", af_train_partials_add(p, 0, NT, x, y, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "days 100..731", af_train_partials_add(p, NT, 631, x, y, err));
    /* 100 of 730 days, or other samples: not the run's partials */
    char *extra = NULL;
    af_range mine = { 5, 5 + NS };
    AF_TEST_FAILS_WITH(AF_EINVAL, "do not match samples 5..7, 730 days",
                       af_train_extra_from(MPI_COMM_SELF, &cfg, ".", NULL, 0, NULL, 0, 1, 1, mine, p, &extra, err));
    AF_EXPECT(extra == NULL);
    mine = (af_range){ 4, 4 + NS };
    AF_TEST_FAILS_WITH(AF_EINVAL, "samples 5..7, 100 days",
                       af_train_extra_from(MPI_COMM_SELF, &cfg, ".", NULL, 0, NULL, 0, 1, 1, mine, p, &extra, err));
    af_train_partials_destroy(&p);
    AF_EXPECT(p == NULL);
    af_train_partials_destroy(&p); /* idempotent */
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    AF_RUN(test_partials__none_without_splits);
    AF_RUN(test_partials__day_order_and_mismatch);
    int rc = AF_TEST_END();
    MPI_Finalize();
    return rc;
}
