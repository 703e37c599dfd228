/* SPDX-License-Identifier: MIT */
/* Connecting to a message bus by address, shared by wsbenchd and wsbenchctl. */
#pragma once

#include <systemd/sd-bus.h>

/**
 * bus_open_address() - connect as a bus client to the bus at @address
 * (a private dbus-daemon, for tests and demos).
 * Return: 0 with *@ret set, or a negative errno.
 */
int bus_open_address(const char *address, sd_bus **ret);
