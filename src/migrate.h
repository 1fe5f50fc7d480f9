/*
 * migrate: applies sql/migrations/NNNN_name.sql in order, each once, each in
 * its own transaction, recorded with its SHA-256 in keywork_migrations.
 * Concurrent runs serialise on an advisory lock. An applied file whose text
 * has changed since is refused: migrations are append-only.
 */
#ifndef KEYWORK_MIGRATE_H
#define KEYWORK_MIGRATE_H

#include <stdio.h>
#include <libpq-fe.h>

/* Apply pending migrations from dir; progress lines to out. 0 or -1. */
int	migrate_run(PGconn *db, const char *dir, FILE *out)
	    __attribute__((warn_unused_result));

#endif
