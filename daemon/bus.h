/* SPDX-License-Identifier: MIT */
/*
 * wsbenchd's D-Bus API (sd-bus): the Manager object and one Run object per
 * run, per the contract in common/wsbench-dbus.h and docs/org.wsbench1.xml.
 */
#pragma once

struct compare;
struct manager;
struct run;

/* Registers the objects and requests the bus name. Return: 0 or negative errno. */
int bus_setup(struct manager *m);

/* PropertiesChanged for a run's live figures and state. */
void bus_run_changed(struct manager *m, const struct run *r);
/* RunStarted, RunFinished, and the manager's ActiveRun and QueuedRuns. */
void bus_run_started(struct manager *m, const struct run *r);
void bus_run_finished(struct manager *m, const struct run *r);
/* CompareFinished: every trial of @c has ended. */
void bus_compare_finished(struct manager *m, const struct compare *c);
