/* SPDX-License-Identifier: MIT */
/*
 * Who a caller is and what it may change. The caller's uid comes from the
 * bus (bus.c); this module resolves it against the user database: its name,
 * and its groups with getpwuid_r() + getgrouplist(), because a dbus-daemon
 * connection does not hand the caller's supplementary groups to sd-bus.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The group whose members may start runs, cancel their own and reload. */
#define ACCESS_GROUP "wsbench"

enum access_level {
	ACCESS_READ,   /* everyone: list, status, reports */
	ACCESS_MEMBER, /* members of ACCESS_GROUP: start, cancel their own runs, reload */
	ACCESS_ADMIN,  /* root and the daemon's own user: also cancel anyone's run */
};

struct caller {
	uid_t uid;
	char *name; /* the user name, or the uid in decimal for a uid without one */
	enum access_level level;
};

/**
 * access_resolve() - what @uid may do.
 * @group: the group that grants ACCESS_MEMBER (ACCESS_GROUP; tests pass others).
 * @daemon_uid: the daemon's own user, who is ACCESS_ADMIN like root.
 * @ret: filled in on success; release it with caller_done().
 *
 * A uid the user database does not know, or a group it does not know,
 * grants no more than ACCESS_READ (or ACCESS_ADMIN for root and @daemon_uid).
 * Return: 0, or a negative errno when the database cannot be read.
 */
int access_resolve(uid_t uid, const char *group, uid_t daemon_uid, struct caller *ret);

void caller_done(struct caller *c);

/* Whether @c may cancel a run requested by @owner_uid. */
bool access_may_cancel(const struct caller *c, uid_t owner_uid);
