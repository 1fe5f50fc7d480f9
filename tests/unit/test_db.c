/*
 * db: statement text and the API's connection string.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "db.h"

Test(db, statement_binds_every_argument_as_a_parameter)
{
	char	buf[256];

	cr_assert_eq(db_statement(buf, sizeof(buf), "get_me", 3), 0);
	cr_assert_str_eq(buf, "SELECT * FROM api.get_me($1, $2, $3)");
	cr_assert_eq(db_statement(buf, sizeof(buf), "ready", 0), 0);
	cr_assert_str_eq(buf, "SELECT * FROM api.ready()");
}

Test(db, statement_refuses_what_is_not_a_plain_name)
{
	char	buf[256];

	cr_assert_eq(db_statement(buf, sizeof(buf), "x); DROP TABLE kw.users; --", 1), -1);
	cr_assert_eq(db_statement(buf, sizeof(buf), "", 1), -1);
	cr_assert_eq(db_statement(buf, sizeof(buf), "Upper", 1), -1);
	cr_assert_eq(db_statement(buf, sizeof(buf), "ok", DB_MAX_PARAMS + 1), -1);
	cr_assert_eq(db_statement(buf, 20, "a_long_function_name", 3), -1);
}

Test(db, a_connection_failure_is_503)
{
	struct db_error	e;

	db_error_from(NULL, &e);
	cr_assert_eq(e.status, 503);
}

Test(db, conninfo_adds_the_statement_timeout_to_keyword_form)
{
	char	 err[256];
	char	*s = db_conninfo("host=127.0.0.1 port=5499 dbname=keywork "
		    "user=keywork_api password='it\\'s\\\\secret'", 1500, 1, err,
		    sizeof(err));

	cr_assert_not_null(s, "%s", err);
	cr_assert(strstr(s, "host='127.0.0.1'") != NULL, "%s", s);
	cr_assert(strstr(s, "password='it\\'s\\\\secret'") != NULL, "%s", s);
	cr_assert(strstr(s, "options='-c statement_timeout=1500 "
	    "-c kw.report_identity=on'") != NULL, "%s", s);
	cr_assert(strstr(s, "application_name='keywork'") != NULL, "%s", s);
	free(s);
}

Test(db, conninfo_accepts_a_uri_and_keeps_its_options)
{
	char	 err[256];
	char	*s = db_conninfo("postgresql://keywork_api:pw@db:5432/keywork"
		    "?options=-c%20search_path%3Dkw&application_name=api1", 10000, 1,
		    err, sizeof(err));

	cr_assert_not_null(s, "%s", err);
	cr_assert(strstr(s, "host='db'") != NULL, "%s", s);
	cr_assert(strstr(s, "user='keywork_api'") != NULL, "%s", s);
	cr_assert(strstr(s, "options='-c search_path=kw -c statement_timeout=10000 "
	    "-c kw.report_identity=on'") != NULL, "%s", s);
	cr_assert(strstr(s, "application_name='api1'") != NULL, "%s", s);
	cr_assert(strstr(s, "application_name='keywork'") == NULL, "%s", s);
	free(s);
}

Test(db, conninfo_without_session_options_sends_no_options)
{
	char	 err[256];
	char	*s = db_conninfo("host=127.0.0.1 port=6432 dbname=keywork "
		    "user=keywork_api", 1500, 0, err, sizeof(err));

	cr_assert_not_null(s, "%s", err);
	cr_assert(strstr(s, "port='6432'") != NULL, "%s", s);
	cr_assert(strstr(s, "options=") == NULL, "%s", s);
	cr_assert(strstr(s, "statement_timeout") == NULL, "%s", s);
	cr_assert(strstr(s, "application_name='keywork'") != NULL, "%s", s);
	free(s);
}

Test(db, conninfo_without_session_options_keeps_the_callers_options)
{
	char	 err[256];
	char	*s = db_conninfo("dbname=keywork options='-c search_path=kw'",
		    1500, 0, err, sizeof(err));

	cr_assert_not_null(s, "%s", err);
	cr_assert(strstr(s, "options='-c search_path=kw'") != NULL, "%s", s);
	cr_assert(strstr(s, "report_identity") == NULL, "%s", s);
	free(s);
}

Test(db, conninfo_reports_what_does_not_parse)
{
	char	 err[256];

	cr_assert_null(db_conninfo("host='unterminated", 1000, 1, err,
	    sizeof(err)));
	cr_assert(strstr(err, "database_url does not parse") != NULL);
}

Test(db, application_errors_keep_their_status_message_and_rule)
{
	struct db_error	e;

	db_error_fields("KW422", "A family has a child.",
	    "{\"rule\":\"family_has_child\"}", &e);
	cr_assert_eq(e.status, 422);
	cr_assert_str_eq(e.detail, "A family has a child.");
	cr_assert_str_eq(e.extra, "{\"rule\":\"family_has_child\"}");
	db_error_fields("KW409", "Taken.", "not json", &e);
	cr_assert_eq(e.status, 409);
	cr_assert_str_eq(e.extra, "");
}

/* Found by fuzz_problem: KW2xx made an error answer with a 2xx status. */
Test(db, an_application_code_outside_4xx_5xx_is_a_500)
{
	static const char *const	codes[] = { "KW222", "KW100", "KW399", "KW600",
	    "KW4x1", "KWabc" };
	struct db_error			e;
	size_t				i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		db_error_fields(codes[i], "should not be shown", NULL, &e);
		cr_assert_eq(e.status, 500, "%s gave %d", codes[i], e.status);
		cr_assert_str_neq(e.detail, "should not be shown");
	}
	db_error_fields("23505", NULL, NULL, &e);
	cr_assert_eq(e.status, 409);
	db_error_fields(NULL, NULL, NULL, &e);
	cr_assert_eq(e.status, 503);
}
