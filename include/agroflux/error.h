/* SPDX-License-Identifier: MIT */
/*
 * agroflux/error.h: the one error path of agroflux.
 *
 * Every fallible function returns int: AF_OK (0) or a negative af_status, and
 * fills an af_error passed as its last argument. The error carries a one-line
 * message with context (file, line or record, field, value) and a stack of
 * (file, line, function) frames pushed as it propagates, PETSc-style, without
 * any global or thread-local state. Not collective, except af_error_sync.
 */
#ifndef AGROFLUX_ERROR_H
#define AGROFLUX_ERROR_H

#include <stddef.h>
#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Closed list of status codes. Add one only when a caller can act on it. */
typedef enum af_status {
    AF_OK = 0,
    AF_ENOMEM = -1,     /**< allocation failed */
    AF_EINVAL = -2,     /**< caller misuse or a bad argument value */
    AF_EIO = -3,        /**< file system error: open, read, write, rename, fsync */
    AF_ENOTFOUND = -4,  /**< a named file, field, sample, column or variable does not exist */
    AF_ECONFIG = -5,    /**< pipeline file: unknown key, missing key, bad value */
    AF_EFORMAT = -6,    /**< malformed input data (CSV row, header, date, number) */
    AF_EUNITS = -7,     /**< unknown or unconvertible units */
    AF_ECRS = -8,       /**< coordinate reference system problem */
    AF_EGDAL = -9,      /**< GDAL/OGR reported an error */
    AF_EPROJ = -10,     /**< PROJ reported an error */
    AF_ENC = -11,       /**< PnetCDF reported an error */
    AF_EMPI = -12,      /**< MPI reported an error */
    AF_EVERIFY = -13,   /**< output does not match its index (verify) */
    AF_EINTERRUPTED = -14, /**< stopped by a signal; state is resumable */
    AF_EINTERNAL = -15  /**< a bug in agroflux */
} af_status;

#define AF_ERROR_MSG_MAX 1024
#define AF_ERROR_MAX_FRAMES 16

typedef struct af_error_frame {
    const char *file;
    int line;
    const char *func;
} af_error_frame;

/** Caller-owned error record; zero-initialise with AF_ERROR_INIT. */
typedef struct af_error {
    int code;                       /**< AF_OK or a negative af_status */
    int rank;                       /**< MPI rank that raised it, -1 if unknown */
    char msg[AF_ERROR_MSG_MAX];     /**< one line, with the offending value */
    int nframes;
    af_error_frame frames[AF_ERROR_MAX_FRAMES];
} af_error;

#define AF_ERROR_INIT { AF_OK, -1, "", 0, { { NULL, 0, NULL } } }

/** Not collective. Reset to AF_OK. */
void af_error_clear(af_error *err);

/**
 * Not collective. Record a new error (replaces any previous one) and return code. A message that
 * ends in an empty reason ("...: " when a library gave none) gets "no reason given" appended, so
 * that no message ever ends in nothing; callers still say what was attempted (docs/architecture.md).
 */
int af_error_set(af_error *err, int code, const char *file, int line, const char *func,
                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/**
 * Not collective. Put "CONTEXT: " (a printf format) before the message, unless the message already
 * starts with CONTEXT: for a caller that knows the file, feature or county a callee's message lacks.
 */
void af_error_prefix(af_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Not collective. Push a propagation frame (no-op past AF_ERROR_MAX_FRAMES). */
void af_error_push(af_error *err, const char *file, int line, const char *func);

/** Not collective. Short stable name of a code, e.g. "AF_ECONFIG". */
const char *af_status_name(int code);

/** Not collective. Format "error: <msg>" plus, if with_frames, one line per frame. */
void af_error_format(const af_error *err, int with_frames, char *buf, size_t bufsize);

/**
 * Collective on comm. Agree on failure: if any rank has err->code != AF_OK, every
 * rank receives the error of the lowest failing rank (code, message, rank) and the
 * call returns that code on all ranks; otherwise returns AF_OK everywhere. A rank
 * that arrives first waits sleeping (af_mpi_wait_idle), not spinning.
 */
int af_error_sync(MPI_Comm comm, af_error *err);

/**
 * Not collective. Complete req by MPI_Test: polling for the first 100 us (a message's
 * rendezvous needs both sides to poll), then with sleeps of 20 us doubling to 200 us between
 * tests: Open MPI's blocking calls poll all along, which burns the CPU a rank ahead of the
 * others would leave to them. Returns the MPI code.
 */
int af_mpi_wait_idle(MPI_Request *req);

/**
 * Not collective; call before MPI_Init. The MPI tuning agroflux relies on, each only where the
 * environment does not set it already (a user's or a site's choice wins): Open MPI's MPI-IO
 * (OMPIO) asks every shared-file-pointer component at each MPI_File_open, and "lockedfile"
 * answers by creating and deleting a lock-test file beside the file, two metadata operations on
 * the output file system per open; agroflux uses no shared file pointers, so
 * OMPI_MCA_sharedfp=^lockedfile (the node-local "sm" stays the default). Other MPIs ignore it.
 */
void af_mpi_init_defaults(void);

#ifdef __cplusplus
}
#endif
#endif
