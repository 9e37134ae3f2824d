/* SPDX-License-Identifier: MIT */
/*
 * log.c: implements agroflux/log.h. One process-wide sink set once by the
 * application at start-up (the only global in the library; it is configuration,
 * not state that changes results).
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static af_log_sink g_sink = NULL;
static af_log_level g_level = AF_LOG_WARN;
static void *g_payload = NULL;

void af_log_set_sink(af_log_sink sink, af_log_level max_level, void *payload)
{
    g_sink = sink;
    g_level = max_level;
    g_payload = payload;
}

void af_log(af_log_level level, const char *module, const char *fmt, ...)
{
    if (!g_sink || level > g_level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g_sink(level, module, msg, g_payload);
}
