/* SPDX-License-Identifier: MIT */
/*
 * Access levels from the user database (see access.h). The *_r lookups grow
 * their buffer on ERANGE: large groups or LDAP entries outgrow any fixed size.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "macro.h"

#define LOOKUP_BUF_MAX (1024 * 1024)

/* getpwuid_r() into a growing buffer. Return: 1 found, 0 no such user, or
 * negative errno. *@buf is the caller's to free. */
static int lookup_user(uid_t uid, struct passwd *pw, char **buf)
{
	struct passwd *found = NULL;
	size_t len = 4096;
	int e;

	for (;;) {
		char *grown = realloc(*buf, len);

		if (!grown)
			return -ENOMEM;
		*buf = grown;
		e = getpwuid_r(uid, pw, *buf, len, &found);
		if (e != ERANGE || len >= LOOKUP_BUF_MAX)
			break;
		len *= 2;
	}
	/* POSIX lets "not found" come back as 0 with NULL, or as ENOENT and kin. */
	if (e == 0 || e == ENOENT || e == ESRCH)
		return found ? 1 : 0;
	return -e;
}

static int lookup_group_gid(const char *name, gid_t *ret)
{
	struct group gr, *found = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len = 4096;
	int e;

	for (;;) {
		char *grown = realloc(buf, len);

		if (!grown)
			return -ENOMEM;
		buf = grown;
		e = getgrnam_r(name, &gr, buf, len, &found);
		if (e != ERANGE || len >= LOOKUP_BUF_MAX)
			break;
		len *= 2;
	}
	if (e != 0 && e != ENOENT && e != ESRCH)
		return -e;
	if (!found)
		return 0;
	*ret = gr.gr_gid;
	return 1;
}

/* Whether @pw's user is in group @gid, as primary or supplementary group. */
static int user_in_group(const struct passwd *pw, gid_t gid)
{
	_cleanup_free_ gid_t *groups = NULL;
	int n = 64;

	for (;;) {
		gid_t *grown = realloc(groups, (size_t)n * sizeof(*groups));
		int want = n;

		if (!grown)
			return -ENOMEM;
		groups = grown;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &want) >= 0) {
			n = want;
			break;
		}
		/* -1: too small, and @want now holds the count needed. */
		if (want <= n || want > 65536)
			return -ENOBUFS;
		n = want;
	}
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

int access_resolve(uid_t uid, const char *group, uid_t daemon_uid, struct caller *ret)
{
	_cleanup_free_ char *buf = NULL;
	struct passwd pw;
	gid_t gid = 0;
	int known, r;

	*ret = (struct caller){ .uid = uid, .level = ACCESS_READ };
	known = lookup_user(uid, &pw, &buf);
	if (known < 0)
		return known;
	if (known ? asprintf(&ret->name, "%s", pw.pw_name) < 0
	          : asprintf(&ret->name, "%u", (unsigned)uid) < 0) {
		ret->name = NULL;
		return -ENOMEM;
	}
	if (uid == 0 || uid == daemon_uid) {
		ret->level = ACCESS_ADMIN;
		return 0;
	}
	if (!known)
		return 0;
	r = lookup_group_gid(group, &gid);
	if (r > 0)
		r = user_in_group(&pw, gid);
	if (r < 0) {
		caller_done(ret);
		return r;
	}
	if (r > 0)
		ret->level = ACCESS_MEMBER;
	return 0;
}

void caller_done(struct caller *c)
{
	free(c->name);
	c->name = NULL;
}

bool access_may_cancel(const struct caller *c, uid_t owner_uid)
{
	return c->level == ACCESS_ADMIN || (c->level == ACCESS_MEMBER && c->uid == owner_uid);
}
