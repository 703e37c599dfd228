/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for daemon/access.c against this machine's real user database:
 * root, user "nobody" and its primary group, a uid nobody has, a group that
 * does not exist. (The integration test adds a real supplementary member.)
 */
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "access.h"

/* A uid far above what useradd hands out, so no account has it. */
#define UNKNOWN_UID ((uid_t)3999999999u)

static void test_root_is_admin(void **state)
{
	struct caller c;

	assert_int_equal(access_resolve(0, "no-such-group-wsbench", 12345, &c), 0);
	assert_int_equal(c.level, ACCESS_ADMIN);
	assert_string_equal(c.name, "root");
	caller_done(&c);
}

static void test_daemon_user_is_admin(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct caller c;

	if (!pw)
		skip();
	assert_int_equal(access_resolve(pw->pw_uid, "no-such-group-wsbench", pw->pw_uid, &c), 0);
	assert_int_equal(c.level, ACCESS_ADMIN);
	caller_done(&c);
}

static void test_group_membership(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;
	struct caller c;

	if (!gr)
		skip();
	/* The primary group counts as membership, like a login's groups. */
	assert_int_equal(access_resolve(pw->pw_uid, gr->gr_name, 0, &c), 0);
	assert_int_equal(c.level, ACCESS_MEMBER);
	assert_string_equal(c.name, "nobody");
	caller_done(&c);
	assert_int_equal(access_resolve(pw->pw_uid, "root", 0, &c), 0);
	assert_int_equal(c.level, ACCESS_READ);
	caller_done(&c);
	assert_int_equal(access_resolve(pw->pw_uid, "no-such-group-wsbench", 0, &c), 0);
	assert_int_equal(c.level, ACCESS_READ);
	caller_done(&c);
}

static void test_unknown_uid_may_only_read(void **state)
{
	struct caller c;

	if (getpwuid(UNKNOWN_UID))
		skip();
	assert_int_equal(access_resolve(UNKNOWN_UID, "root", 0, &c), 0);
	assert_int_equal(c.level, ACCESS_READ);
	assert_string_equal(c.name, "3999999999");
	caller_done(&c);
}

static void test_who_may_cancel(void **state)
{
	struct caller admin = { .uid = 0, .level = ACCESS_ADMIN };
	struct caller member = { .uid = 1000, .level = ACCESS_MEMBER };
	struct caller reader = { .uid = 1001, .level = ACCESS_READ };

	assert_true(access_may_cancel(&admin, 1000));
	assert_true(access_may_cancel(&member, 1000));
	assert_false(access_may_cancel(&member, 0));
	assert_false(access_may_cancel(&reader, 1001));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_is_admin),
		cmocka_unit_test(test_daemon_user_is_admin),
		cmocka_unit_test(test_group_membership),
		cmocka_unit_test(test_unknown_uid_may_only_read),
		cmocka_unit_test(test_who_may_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
