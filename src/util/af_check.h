/* SPDX-License-Identifier: MIT */
/*
 * af_check.h: private macros for the single error path (see agroflux/error.h).
 *
 * Convention: a fallible function declares `int rc = AF_OK;`, receives
 * `af_error *err`, and has one `cleanup:` label that frees everything (NULL-safe)
 * and returns rc. None of these macros return: they all `goto cleanup`.
 */
#ifndef AF_CHECK_H
#define AF_CHECK_H

#include "agroflux/error.h"

/** Create an error with a printf message and jump to cleanup. */
#define AF_FAIL(code, ...)                                                        \
    do {                                                                          \
        rc = af_error_set(err, (code), __FILE__, __LINE__, __func__, __VA_ARGS__); \
        goto cleanup;                                                             \
    } while (0)

/** Propagate a callee's error code, pushing a frame. */
#define AF_CHECK(call)                                           \
    do {                                                         \
        rc = (call);                                             \
        if (rc != AF_OK) {                                       \
            af_error_push(err, __FILE__, __LINE__, __func__);    \
            goto cleanup;                                        \
        }                                                        \
    } while (0)

/** Like AF_CHECK, and on failure put the caller's context (printf format: file, feature, county) first. */
#define AF_CHECK_AT(call, ...)                                   \
    do {                                                         \
        rc = (call);                                             \
        if (rc != AF_OK) {                                       \
            af_error_prefix(err, __VA_ARGS__);                   \
            af_error_push(err, __FILE__, __LINE__, __func__);    \
            goto cleanup;                                        \
        }                                                        \
    } while (0)

/** Fail with AF_ENOMEM when p is NULL. */
#define AF_CHECK_ALLOC(p)                                        \
    do {                                                         \
        if ((p) == NULL) AF_FAIL(AF_ENOMEM, "out of memory");    \
    } while (0)

/** Caller misuse: always checked. */
#define AF_CHECK_ARG(cond)                                                   \
    do {                                                                     \
        if (!(cond)) AF_FAIL(AF_EINVAL, "invalid argument: %s", #cond);      \
    } while (0)

/** MPI call returning an MPI error code (communicators use MPI_ERRORS_RETURN). */
#define AF_CHECK_MPI(call)                                                   \
    do {                                                                     \
        int af__mpirc = (call);                                              \
        if (af__mpirc != MPI_SUCCESS) {                                      \
            char af__mpimsg[MPI_MAX_ERROR_STRING];                           \
            int af__mpilen = 0;                                              \
            MPI_Error_string(af__mpirc, af__mpimsg, &af__mpilen);            \
            AF_FAIL(AF_EMPI, "%s: %s", #call, af__mpimsg);                   \
        }                                                                    \
    } while (0)

#endif
