/* SPDX-License-Identifier: MIT */
/*
 * test_error_sync.c: af_error_sync on 1 or more ranks (run under mpirun -n 2 by the
 * error-sync test): no error agrees on AF_OK; an error set on the last rank only, which
 * arrives late, reaches every rank with its code, message and rank; two failing ranks
 * agree on the lowest. A rank that arrives first waits by af_mpi_wait_idle: while it
 * waits 0.3 s for the late rank its CPU time stays under half of that (a spinning wait
 * burns all of it).
 */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "af_test.h"

static int g_rank, g_size;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_no_error(void)
{
    af_error e = AF_ERROR_INIT;
    AF_EXPECT(af_error_sync(MPI_COMM_WORLD, &e) == AF_OK);
    AF_EXPECT(e.code == AF_OK);
}

static void test_late_rank_fails(void)
{
    af_error e = AF_ERROR_INIT;
    int last = g_size - 1;
    double c0 = cpu_now(), w0 = MPI_Wtime();
    if (g_rank == last) {
        usleep(300000);
        af_error_set(&e, AF_EFORMAT, __FILE__, __LINE__, __func__, "bad value on rank %d", g_rank);
    }
    int rc = af_error_sync(MPI_COMM_WORLD, &e);
    double cpu = cpu_now() - c0, wall = MPI_Wtime() - w0;
    AF_EXPECT(rc == AF_EFORMAT);
    AF_EXPECT(e.code == AF_EFORMAT);
    AF_EXPECT(e.rank == last);
    char want[64];
    snprintf(want, sizeof want, "bad value on rank %d", last);
    AF_EXPECT(strstr(e.msg, want) != NULL);
    if (g_rank != last) {
        AF_EXPECT(wall >= 0.25);
        if (!(cpu < 0.5 * wall)) fprintf(stderr, "rank %d waited %.3f s wall with %.3f s CPU\n", g_rank, wall, cpu);
        AF_EXPECT(cpu < 0.5 * wall);
    }
}

static void test_lowest_failing_rank_wins(void)
{
    af_error e = AF_ERROR_INIT;
    if (g_rank >= g_size / 2)
        af_error_set(&e, g_rank == g_size / 2 ? AF_EIO : AF_ECONFIG, __FILE__, __LINE__, __func__, "rank %d", g_rank);
    int rc = af_error_sync(MPI_COMM_WORLD, &e);
    AF_EXPECT(rc == AF_EIO);
    AF_EXPECT(e.rank == g_size / 2);
}

/* Before MPI_Init: a value the environment sets is kept, an unset one gets agroflux's default. */
static void test_mpi_init_defaults(void)
{
    setenv("OMPI_MCA_sharedfp", "sm,individual", 1);
    af_mpi_init_defaults();
    AF_EXPECT(getenv("OMPI_MCA_sharedfp") && !strcmp(getenv("OMPI_MCA_sharedfp"), "sm,individual"));
    unsetenv("OMPI_MCA_sharedfp");
    af_mpi_init_defaults();
    AF_EXPECT(getenv("OMPI_MCA_sharedfp") && !strcmp(getenv("OMPI_MCA_sharedfp"), "^lockedfile"));
}

int main(int argc, char **argv)
{
    AF_RUN(test_mpi_init_defaults);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    AF_RUN(test_no_error);
    AF_RUN(test_late_rank_fails);
    AF_RUN(test_lowest_failing_rank_wins);
    int failed = AF_TEST_END();
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
