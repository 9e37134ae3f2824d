/* SPDX-License-Identifier: MIT */
/*
 * agroflux/log.h: where library diagnostics go. The library never writes to
 * stdout or stderr itself; an application installs one sink. Not collective.
 */
#ifndef AGROFLUX_LOG_H
#define AGROFLUX_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum af_log_level { AF_LOG_ERROR = 0, AF_LOG_WARN = 1, AF_LOG_INFO = 2, AF_LOG_DEBUG = 3 } af_log_level;

typedef void (*af_log_sink)(af_log_level level, const char *module, const char *msg, void *payload);

/** Install the sink and the most verbose level passed to it (default: none, silent). */
void af_log_set_sink(af_log_sink sink, af_log_level max_level, void *payload);

#ifdef __cplusplus
}
#endif
#endif
