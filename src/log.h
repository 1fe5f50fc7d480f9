/*
 * log: one line of JSON per event on standard error, with level, module and
 * request id. Callers pass identifiers and numbers only: never names, note
 * text, tokens or passwords.
 */
#ifndef KEYWORK_LOG_H
#define KEYWORK_LOG_H

#define LOG_LVL_DEBUG	0
#define LOG_LVL_INFO	1
#define LOG_LVL_WARN	2
#define LOG_LVL_ERROR	3

extern int log_level;

/* Set the threshold from "debug", "info", "warn" or "error". */
void	log_set_level(const char *);

#define log_debug(mod, rid, ...) \
	do { if (log_level <= LOG_LVL_DEBUG) \
		log_msg(LOG_LVL_DEBUG, mod, rid, __VA_ARGS__); } while (0)

void	log_msg(int level, const char *module, const char *request_id,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * The access line of one finished request. caller is "user:<id>" or
 * "client:<id>" (logged as user_id or client_id), or NULL when the request
 * named no one.
 */
void	log_request(const char *request_id, const char *method,
	    const char *operation_id, int status, double ms, const char *caller);

#endif
