# Shell helpers shared by the scripts and the test scripts (sourced).
#
#   free_port N      the first TCP port from N up that nothing listens on
#   q SQL            one statement against $DATABASE_URL, unaligned, tuples
#                    only; stops the script on an SQL error
#   on_exit FUNC     runs FUNC once when the script ends, however it ends:
#                    Ctrl-C and TERM end it too (130 and 143), where a bare
#                    "trap FUNC INT" would run FUNC and carry on

free_port() {
	p=$1
	while ss -Htan "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$1"; }

on_exit() {
	trap "$1" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
