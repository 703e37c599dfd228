/* SPDX-License-Identifier: MIT */
/*
 * The D-Bus contract between wsbenchd and wsbenchctl: bus name, object paths,
 * interfaces, error names and the run states. The daemon's objects (bus.c),
 * its runs (run.c, the state names), its main() and wsbenchctl's bus client
 * and verbs take them from here; no other C file spells them.
 * docs/org.wsbench1.xml describes the same interface for other clients, and
 * systemd/org.wsbench1.conf's bus policy names the bus name once more.
 */
#pragma once

#define WSBENCH_BUS_NAME        "org.wsbench1"
#define WSBENCH_MANAGER_PATH    "/org/wsbench1"
#define WSBENCH_MANAGER_IFACE   "org.wsbench1.Manager"
#define WSBENCH_RUN_PATH_PREFIX "/org/wsbench1/run"
#define WSBENCH_RUN_IFACE       "org.wsbench1.Run"

#define WSBENCH_ERROR_UNKNOWN_SCENARIO "org.wsbench1.Error.UnknownScenario"
#define WSBENCH_ERROR_UNKNOWN_SERVER   "org.wsbench1.Error.UnknownServer"
#define WSBENCH_ERROR_INVALID_ARGUMENT "org.wsbench1.Error.InvalidArgument"
#define WSBENCH_ERROR_BUSY             "org.wsbench1.Error.Busy"
#define WSBENCH_ERROR_NOT_FOUND        "org.wsbench1.Error.NotFound"
#define WSBENCH_ERROR_ACCESS_DENIED    "org.wsbench1.Error.AccessDenied"
#define WSBENCH_ERROR_RELOAD_FAILED    "org.wsbench1.Error.ReloadFailed"

/* Run states, as the Run object's State property spells them. */
#define WSBENCH_STATE_QUEUED     "queued"
#define WSBENCH_STATE_STARTING   "starting"
#define WSBENCH_STATE_CONNECTING "connecting"
#define WSBENCH_STATE_RUNNING    "running"
#define WSBENCH_STATE_DRAINING   "draining"
#define WSBENCH_STATE_STOPPING   "stopping"
#define WSBENCH_STATE_FINISHED   "finished"
#define WSBENCH_STATE_FAILED     "failed"
#define WSBENCH_STATE_CANCELLED  "cancelled"
