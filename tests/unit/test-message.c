/* SPDX-License-Identifier: MIT */
/* Unit tests for common/message.c: encode, verify, and catch any change. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "message.h"

static const uint64_t key = 0x1234abcd5678ef00ULL;

static void round_trip(enum message_type type, size_t size)
{
	struct message_id id = { .client = 77, .seq = 123456, .sched_us = 9876543 }, back;
	uint8_t *buf = malloc(size), *scratch = malloc(size);

	assert_int_equal(message_encode(type, &id, key, buf, size), 0);
	assert_int_equal(message_verify(type, buf, size, key, scratch, &back), 0);
	assert_int_equal(back.client, 77);
	assert_int_equal(back.seq, 123456);
	assert_int_equal(back.sched_us, 9876543);
	/* Every single-bit flip anywhere is caught. */
	for (size_t i = 0; i < size; i += (size > 4096 ? size / 64 : 1)) {
		buf[i] ^= 0x01;
		assert_int_equal(message_verify(type, buf, size, key, scratch, &back), -EBADMSG);
		buf[i] ^= 0x01;
	}
	free(buf);
	free(scratch);
}

static void test_text_sizes(void **state)
{
	round_trip(MESSAGE_TEXT, 64);
	round_trip(MESSAGE_TEXT, 1000);
	round_trip(MESSAGE_TEXT, 1 << 20);
}

static void test_binary_sizes(void **state)
{
	round_trip(MESSAGE_BINARY, MESSAGE_BINARY_HEADER + MESSAGE_MIN_FILLER);
	round_trip(MESSAGE_BINARY, 64);
	round_trip(MESSAGE_BINARY, 16 * 1024 * 1024);
}

static void test_text_is_json(void **state)
{
	struct message_id id = { .client = 3, .seq = 4, .sched_us = 5 };
	char buf[80];

	assert_int_equal(message_encode(MESSAGE_TEXT, &id, key, (uint8_t *)buf, 60), 0);
	buf[60] = '\0';
	assert_memory_equal(buf, "{\"c\":3,\"s\":4,\"t\":5,\"p\":\"", 24);
	assert_string_equal(buf + 58, "\"}");
	for (int i = 24; i < 58; i++)
		assert_true((buf[i] >= 'A' && buf[i] <= 'Z') || (buf[i] >= 'a' && buf[i] <= 'z') ||
		            (buf[i] >= '0' && buf[i] <= '9') || buf[i] == '-' || buf[i] == '_');
}

static void test_text_header_extremes(void **state)
{
	/* The header is written without printf: it must read as printf's would. */
	const struct message_id ids[] = {
		{ .client = 0, .seq = 0, .sched_us = 0 },
		{ .client = 10, .seq = 1000000, .sched_us = 99 },
		{ .client = UINT32_MAX, .seq = UINT64_MAX, .sched_us = UINT64_MAX },
	};
	char buf[120], want[120];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		int n = snprintf(want, sizeof(want), "{\"c\":%u,\"s\":%llu,\"t\":%llu,\"p\":\"",
		                 ids[i].client, (unsigned long long)ids[i].seq,
		                 (unsigned long long)ids[i].sched_us);

		assert_int_equal(message_encode(MESSAGE_TEXT, &ids[i], key, (uint8_t *)buf, 100),
		                 0);
		assert_memory_equal(buf, want, (size_t)n);
		assert_int_equal(message_min_size(MESSAGE_TEXT, &ids[i]), (size_t)n + 2 + 8);
	}
}

static void test_min_size(void **state)
{
	struct message_id small = { .client = 9, .seq = 9, .sched_us = 9 };
	struct message_id big = { .client = 99999,
		                  .seq = 9999999999ULL,
		                  .sched_us = 99999999999ULL };
	uint8_t buf[200];

	assert_int_equal(message_min_size(MESSAGE_BINARY, &big), 28);
	assert_true(message_min_size(MESSAGE_TEXT, &big) <= 64);
	assert_int_equal(
	    message_encode(MESSAGE_TEXT, &small, key, buf, message_min_size(MESSAGE_TEXT, &small)),
	    0);
	assert_int_equal(message_encode(MESSAGE_TEXT, &small, key, buf,
	                                message_min_size(MESSAGE_TEXT, &small) - 1),
	                 -EMSGSIZE);
}

/* The largest id a run reaches: last client, twice its sequence numbers plus
 * 10^6, a send time 1 s past the end. Absurd figures stay defined. */
static void test_min_size_for_run(void **state)
{
	struct message_id worst = { .client = 999,
		                    .seq = 2 * 10 * 32 + 1000000,
		                    .sched_us = 32000000 + 1000000 };

	assert_int_equal(message_min_size_for_run(MESSAGE_TEXT, 1000, 10, 32),
	                 message_min_size(MESSAGE_TEXT, &worst));
	assert_int_equal(message_min_size_for_run(MESSAGE_TEXT, 1000, 10, 32), 49);
	assert_int_equal(message_min_size_for_run(MESSAGE_BINARY, 1000, 1e6, 86400),
	                 MESSAGE_BINARY_HEADER + MESSAGE_MIN_FILLER);
	assert_true(message_min_size_for_run(MESSAGE_TEXT, 0, 1e300, 1e300) <= 100);
	assert_true(message_min_size_for_run(MESSAGE_TEXT, 1, -1, -1) > 0);
}

static void test_type_names(void **state)
{
	enum message_type t;

	assert_string_equal(message_type_to_string(MESSAGE_TEXT), "text");
	assert_string_equal(message_type_to_string(MESSAGE_BINARY), "binary");
	assert_string_equal(message_type_to_string((enum message_type)7), "unknown");
	assert_int_equal(message_type_from_string("binary", &t), 0);
	assert_int_equal(t, MESSAGE_BINARY);
	assert_int_equal(message_type_from_string("text", &t), 0);
	assert_int_equal(t, MESSAGE_TEXT);
	assert_int_equal(message_type_from_string("xml", &t), -EINVAL);
}

static void test_other_key_or_header_fails(void **state)
{
	struct message_id id = { .client = 1, .seq = 2, .sched_us = 3 }, back;
	uint8_t buf[64], scratch[64];

	message_encode(MESSAGE_BINARY, &id, key, buf, sizeof(buf));
	assert_int_equal(message_verify(MESSAGE_BINARY, buf, sizeof(buf), key + 1, scratch, &back),
	                 -EBADMSG);
	message_encode(MESSAGE_TEXT, &id, key, buf, sizeof(buf));
	/* Same header, other message: "s":2 -> "s":3 */
	buf[11] = '3';
	assert_int_equal(message_verify(MESSAGE_TEXT, buf, sizeof(buf), key, scratch, &back),
	                 -EBADMSG);
	assert_int_equal(
	    message_verify(MESSAGE_TEXT, (const uint8_t *)"{}", 2, key, scratch, &back), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_sizes),
		cmocka_unit_test(test_binary_sizes),
		cmocka_unit_test(test_text_is_json),
		cmocka_unit_test(test_text_header_extremes),
		cmocka_unit_test(test_min_size),
		cmocka_unit_test(test_min_size_for_run),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_other_key_or_header_fails),
	};

	return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
