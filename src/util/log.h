/* SPDX-License-Identifier: MIT */
/*
 * log.h (private): library diagnostics. Library code never prints; it calls
 * af_log, which forwards to the sink the application installed with
 * af_log_set_sink (the CLI prints to stderr). Not collective.
 */
#ifndef AF_LOG_H
#define AF_LOG_H

#include "agroflux/log.h"

void af_log(af_log_level level, const char *module, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
