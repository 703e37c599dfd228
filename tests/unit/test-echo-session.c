/* SPDX-License-Identifier: MIT */
/* Unit tests for echo/echo-session.c: reassembly, limits and the queue. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "echo-session.h"

static void test_whole_message(void **state)
{
	struct echo_session s = { 0 };
	struct echo_msg *m;

	assert_int_equal(echo_session_receive(&s, "hello", 5, true, true, false, 0, 100), 1);
	m = echo_session_peek(&s);
	assert_non_null(m);
	assert_int_equal(m->len, 5);
	assert_false(m->binary);
	assert_memory_equal(echo_msg_payload(m), "hello", 5);
	assert_int_equal(s.queued_bytes, 5);
	echo_session_consume(&s, 5);
	assert_null(echo_session_peek(&s));
	assert_int_equal(s.queued_bytes, 0);
	echo_session_clear(&s);
}

static void test_empty_message(void **state)
{
	struct echo_session s = { 0 };

	assert_int_equal(echo_session_receive(&s, NULL, 0, true, true, true, 0, 100), 1);
	assert_non_null(echo_session_peek(&s));
	assert_int_equal(echo_session_peek(&s)->len, 0);
	assert_true(echo_session_peek(&s)->binary);
	echo_session_consume(&s, 0);
	assert_null(echo_session_peek(&s));
	echo_session_clear(&s);
}

static void test_reassembly_in_order(void **state)
{
	struct echo_session s = { 0 };
	uint8_t big[20000];
	struct echo_msg *m;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(echo_session_receive(&s, big, 7000, true, false, true, 0, 1 << 20), 0);
	assert_null(echo_session_peek(&s));
	assert_int_equal(echo_session_receive(&s, big + 7000, 7000, false, false, true, 0, 1 << 20),
	                 0);
	assert_int_equal(echo_session_receive(&s, big + 14000, 6000, false, true, true, 0, 1 << 20),
	                 1);
	m = echo_session_peek(&s);
	assert_int_equal(m->len, sizeof(big));
	assert_memory_equal(echo_msg_payload(m), big, sizeof(big));
	echo_session_clear(&s);
}

static void test_limit_is_exact(void **state)
{
	struct echo_session s = { 0 };
	char buf[64] = { 0 };

	assert_int_equal(echo_session_receive(&s, buf, 40, true, false, false, 0, 64), 0);
	assert_int_equal(echo_session_receive(&s, buf, 24, false, true, false, 0, 64), 1);
	assert_int_equal(echo_session_receive(&s, buf, 40, true, false, false, 0, 64), 0);
	assert_int_equal(echo_session_receive(&s, buf, 25, false, true, false, 0, 64), -EMSGSIZE);
	echo_session_clear(&s);
}

/* A frame announcing more than fits fails at its first chunk (the header
 * tells): a peer cannot make the server read and hold @max bytes first. */
static void test_announced_size_above_limit_fails_at_once(void **state)
{
	struct echo_session s = { 0 };
	char buf[64] = { 0 };

	assert_int_equal(echo_session_receive(&s, buf, 10, true, false, false, 54, 64), 0);
	echo_session_clear(&s);
	assert_int_equal(echo_session_receive(&s, buf, 10, true, false, false, 55, 64), -EMSGSIZE);
	assert_int_equal(echo_session_receive(&s, buf, 10, true, false, false, SIZE_MAX, 64),
	                 -EMSGSIZE);
	/* A later fragment's frame counts what came before. */
	assert_int_equal(echo_session_receive(&s, buf, 40, true, false, false, 0, 64), 0);
	assert_int_equal(echo_session_receive(&s, buf, 10, false, false, false, 15, 64), -EMSGSIZE);
	echo_session_clear(&s);
}

static void test_queue_order_and_partial_consume(void **state)
{
	struct echo_session s = { 0 };

	assert_int_equal(echo_session_receive(&s, "one", 3, true, true, false, 0, 100), 1);
	assert_int_equal(echo_session_receive(&s, "two!", 4, true, true, true, 0, 100), 1);
	assert_int_equal(s.queued_msgs, 2);
	assert_int_equal(s.queued_bytes, 7);
	echo_session_consume(&s, 2);
	assert_int_equal(echo_session_peek(&s)->sent, 2);
	echo_session_consume(&s, 1);
	assert_memory_equal(echo_msg_payload(echo_session_peek(&s)), "two!", 4);
	assert_true(echo_session_peek(&s)->binary);
	assert_int_equal(s.queued_bytes, 4);
	echo_session_clear(&s);
	assert_int_equal(s.queued_msgs, 0);
}

static void test_hint_sizes_once(void **state)
{
	struct echo_session s = { 0 };
	char chunk[1000];

	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(echo_session_receive(&s, chunk, 1000, true, false, false, 99000, 1 << 20),
	                 0);
	assert_true(s.partial->cap >= 100000);
	echo_session_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_message),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_reassembly_in_order),
		cmocka_unit_test(test_limit_is_exact),
		cmocka_unit_test(test_announced_size_above_limit_fails_at_once),
		cmocka_unit_test(test_queue_order_and_partial_consume),
		cmocka_unit_test(test_hint_sizes_once),
	};

	return cmocka_run_group_tests_name("echo-session", tests, NULL, NULL);
}
