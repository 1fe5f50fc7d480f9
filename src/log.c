/*
 * log: see log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include <jansson.h>

#include "log.h"

int log_level = LOG_LVL_INFO;

static const char	*log_names[] = { "debug", "info", "warn", "error" };

static void	log_emit(json_t *);

void
log_set_level(const char *name)
{
	int	i;

	for (i = 0; i < 4; i++) {
		if (strcmp(name, log_names[i]) == 0)
			log_level = i;
	}
}

/* One write per line, so lines from several workers never interleave. */
static void
log_emit(json_t *o)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[96];
	char		*s;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
	json_object_set_new(o, "time", json_string(ts));
	if ((s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		fprintf(stderr, "%s\n", s);
		free(s);
	}
	json_decref(o);
}

void
log_msg(int level, const char *module, const char *request_id,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024];
	json_t	*o;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_object();
	json_object_set_new(o, "level", json_string(log_names[level & 3]));
	json_object_set_new(o, "module", json_string(module));
	if (request_id != NULL)
		json_object_set_new(o, "request_id", json_string(request_id));
	json_object_set_new(o, "msg", json_string(msg));
	log_emit(o);
}

void
log_request(const char *request_id, const char *method,
    const char *operation_id, int status, double ms, const char *caller)
{
	json_t	*o;

	if (LOG_LVL_INFO < log_level)
		return;
	o = json_object();
	json_object_set_new(o, "level", json_string("info"));
	json_object_set_new(o, "module", json_string("http"));
	json_object_set_new(o, "request_id", json_string(request_id));
	json_object_set_new(o, "method", json_string(method));
	json_object_set_new(o, "operation_id",
	    operation_id != NULL ? json_string(operation_id) : json_null());
	json_object_set_new(o, "status", json_integer(status));
	json_object_set_new(o, "latency_ms", json_real(ms));
	if (caller != NULL && strncmp(caller, "user:", 5) == 0)
		json_object_set_new(o, "user_id", json_string(caller + 5));
	else if (caller != NULL && strncmp(caller, "client:", 7) == 0)
		json_object_set_new(o, "client_id", json_string(caller + 7));
	log_emit(o);
}
