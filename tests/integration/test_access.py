#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Who may do what, on a bus configured like the system bus.

test_daemon.py's Access case checks wsbenchd's own rules with the daemon
running as root on a bus that lets everyone call everything. Here wsbenchd
runs as user `wsbench`, as the unit runs it, and the callers are three real
users (setpriv): root, a member of group wsbench and a user in no group of
ours.

- PolicyBus: a dbus-daemon with the system bus's default policy (deny own,
  deny method calls) plus the shipped policy file, included as it is
  (systemd/org.wsbench1.conf, or /usr/share/dbus-1/system.d/org.wsbench1.conf
  with --installed). Only `wsbench` may own the name; everyone may list,
  read properties, status and reports; the bus itself refuses StartRun,
  CancelRun, Run.Cancel and Reload from the unprivileged user
  (org.freedesktop.DBus.Error.AccessDenied) and nothing changes; the member
  and root may.
- OpenBus: a bus that lets everyone call everything (tests/dbus/bus-users.conf);
  wsbenchd's own check refuses the same calls with
  org.wsbench1.Error.AccessDenied.

Needs root (useradd, setpriv). From the build tree (meson test) it uses the
built programs; with --installed (tests/packaging, in a container with the
packages installed) the installed ones, without environment overrides.
"""

import glob
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from privatebus import SOURCE, PrivateBus, TestUsers, build, tool_env  # noqa: E402
import servers  # noqa: E402

INSTALLED = "--installed" in sys.argv
if INSTALLED:
    sys.argv.remove("--installed")

DAEMON_USER = "wsbench"
BUS_NAME = "org.wsbench1"
PATH = "/org/wsbench1"
MANAGER = "org.wsbench1.Manager"
RUN = "org.wsbench1.Run"
BUS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
DAEMON_DENIED = "org.wsbench1.Error.AccessDenied"
SHORT = ["--set", "duration=1", "--set", "warmup=0", "--set", "drain_timeout=2"]
LONG = ["--set", "duration=60", "--set", "warmup=0"]

if INSTALLED:
    WSBENCHD, WSBENCHCTL = "/usr/sbin/wsbenchd", "/usr/bin/wsbenchctl"
    POLICY = "/usr/share/dbus-1/system.d/org.wsbench1.conf"
    SHIPPED_CONF = "/etc/wsbench.conf"
else:
    WSBENCHD, WSBENCHCTL = build("daemon", "wsbenchd"), build("ctl", "wsbenchctl")
    POLICY = os.path.join(SOURCE, "systemd", "org.wsbench1.conf")
    SHIPPED_CONF = os.path.join(SOURCE, "etc", "wsbench.conf")

# The default policy of Debian's /usr/share/dbus-1/system.conf, then the
# shipped policy file, included as the system bus includes system.d/*.conf.
SYSTEM_LIKE = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""



free_port = servers.free_port


def as_user(argv, user):
    """argv as @user (uid, primary and supplementary groups, as a login
    sets them), or as ourselves (root) when @user is None."""
    if user is None:
        return argv
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"] + argv


class Users:
    """The daemon's user `wsbench` (created when the machine has none, as in
    the build tree; the packages create it themselves) and TestUsers' member
    and outsider. TestUsers' lock is held throughout, so test_daemon.py's
    Access case never creates or removes group wsbench under us."""

    def __init__(self):
        self.test_users = TestUsers()
        self.created_daemon_user = False

    def create(self):
        self.test_users.create()
        try:
            pwd.getpwnam(DAEMON_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--gid", TestUsers.GROUP,
                            "--shell", "/usr/sbin/nologin", DAEMON_USER], check=True)
            self.created_daemon_user = True
        self.member, self.other = self.test_users.member, self.test_users.other
        return self

    def remove(self):
        if self.created_daemon_user:
            gid = grp.getgrnam(TestUsers.GROUP).gr_gid
            subprocess.run(["userdel", DAEMON_USER], stderr=subprocess.DEVNULL)
            # userdel drops the group of the same name when it has no other
            # member; it is TestUsers' (or the machine's) to remove.
            try:
                grp.getgrnam(TestUsers.GROUP)
            except KeyError:
                subprocess.run(["groupadd", "--system", "--gid", str(gid), TestUsers.GROUP],
                               check=True)
        self.test_users.remove()


class Bus(PrivateBus):
    """dbus-daemon on a configuration written from @template into @tmp, or
    on tests/dbus/bus-users.conf (everyone may call everything) without."""

    def __init__(self, tmp, template):
        if template is None:
            super().__init__("bus-users.conf")
            return
        path = os.path.join(tmp, "bus.conf")
        with open(path, "w") as f:
            f.write(template.format(socket=os.path.join(tmp, "bus.socket"), policy=POLICY))
        super().__init__(path)  # an absolute path: PrivateBus joins it as is


class AccessCase(unittest.TestCase):
    BUS_TEMPLATE = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("creating users (useradd) and switching to them needs root")
        if not os.access(WSBENCHD, os.X_OK):
            raise unittest.SkipTest(f"{WSBENCHD} is not built")
        cls.users = Users().create()
        cls.daemon = None
        cls.bus = None
        try:
            cls.tmp = tempfile.mkdtemp(prefix="wsbench-access-")
            os.chmod(cls.tmp, 0o755)
            if not INSTALLED and subprocess.run(as_user(["test", "-x", WSBENCHD], DAEMON_USER)
                                                ).returncode != 0:
                raise unittest.SkipTest(f"user {DAEMON_USER} cannot run {WSBENCHD}")
            cls.reports = os.path.join(cls.tmp, "reports")
            os.mkdir(cls.reports)
            wsb = pwd.getpwnam(DAEMON_USER)
            os.chown(cls.reports, wsb.pw_uid, wsb.pw_gid)
            cls.config = os.path.join(cls.tmp, "wsbench.conf")
            with open(SHIPPED_CONF) as f:
                text = f.read()
            text = text.replace('"/var/lib/wsbench/reports"', f'"{cls.reports}"')
            # Ports of our own: other suites run the shipped servers too.
            text = re.sub(r"port = 900[0-9];", lambda m: f"port = {free_port()};", text)
            cls.write_config(text)
            cls.bus = Bus(cls.tmp, cls.BUS_TEMPLATE).start()
            cls.start_daemon()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def write_config(cls, text):
        with open(cls.config, "w") as f:
            f.write(text)
        os.chmod(cls.config, 0o644)

    @classmethod
    def start_daemon(cls):
        # From the build tree the tools come from WSBENCH_* (as in every test
        # there); installed, the daemon finds them itself.
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        if not INSTALLED:
            env.update({k: v for k, v in tool_env().items() if k.startswith("WSBENCH_")})
        cls.log_path = os.path.join(cls.tmp, "wsbenchd.log")
        log = open(cls.log_path, "a")
        cls.daemon = subprocess.Popen(
            as_user([WSBENCHD, "--config", cls.config, "--bus-address", cls.bus.address],
                    DAEMON_USER), stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if cls.daemon.poll() is not None:
                raise RuntimeError(f"wsbenchd exited with {cls.daemon.returncode}: {cls.read_log()}")
            if cls.ctl("status", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("wsbenchd did not come up: " + cls.read_log())

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "daemon", None) and cls.daemon.poll() is None:
            cls.daemon.terminate()
            try:
                cls.daemon.wait(30)
            except subprocess.TimeoutExpired:
                cls.daemon.kill()
                cls.daemon.wait()
        if getattr(cls, "bus", None):
            cls.bus.stop()
        if getattr(cls, "tmp", None):
            if os.environ.get("WSBENCH_KEEP_TMP"):
                print(f"kept {cls.tmp}", file=sys.stderr)
            else:
                shutil.rmtree(cls.tmp, ignore_errors=True)
        if getattr(cls, "users", None):
            cls.users.remove()

    @classmethod
    def read_log(cls):
        with open(cls.log_path) as f:
            return f.read()

    # -- callers ------------------------------------------------------------

    @classmethod
    def ctl(cls, *args, user=None, check=True):
        p = subprocess.run(as_user([WSBENCHCTL, "--bus-address", cls.bus.address] + list(args),
                                   user), capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"wsbenchctl {' '.join(args)} as {user or 'root'} exited "
                                 f"{p.returncode}: {p.stderr}")
        return p

    @classmethod
    def ctl_json(cls, *args, user=None):
        return json.loads(cls.ctl("--json", *args, user=user).stdout)

    def call(self, user, path, method, *args, dest=BUS_NAME):
        """A raw method call (dbus-send), so that the error's name shows."""
        argv = ["dbus-send", f"--bus={self.bus.address}", "--print-reply", f"--dest={dest}",
                path, method] + list(args)
        return subprocess.run(as_user(argv, user), capture_output=True, text=True, timeout=30)

    def assert_refused(self, p, error):
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn(f"Error {error}", p.stderr)

    # -- state ----------------------------------------------------------------

    def snapshot(self):
        """What a refused call must not change: the runs and their states,
        the active run, the scenarios in force and the report files."""
        return (sorted((r["id"], r["state"]) for r in self.ctl_json("runs")),
                self.ctl_json("status")["active_run"],
                [s["name"] for s in self.ctl_json("list-scenarios")],
                sorted(os.listdir(self.reports)))

    def start(self, *args, user=None):
        return self.ctl_json("start", "single", *args, user=user)["id"]

    def wait(self, run_id, state="finished"):
        p = self.ctl("--json", "wait", run_id, check=False)
        got = json.loads(p.stdout)["State"]
        self.assertEqual(got, state, f"{run_id}: {p.stdout} {self.read_log()[-2000:]}")
        return json.loads(p.stdout)

    def wait_state(self, run_id, states, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.ctl_json("status", run_id)
            if st["State"] in states:
                return
            time.sleep(0.05)
        self.fail(f"run {run_id} never reached {states}: {st} {self.read_log()[-2000:]}")

    def cancel_all(self):
        for r in self.ctl_json("runs"):
            if r["state"] not in ("finished", "failed", "cancelled"):
                self.ctl("cancel", r["id"], check=False)
                self.wait(r["id"], "cancelled")

    def with_extra_scenario(self, name):
        """The configuration file with one more scenario (not reloaded)."""
        with open(self.config) as f:
            text = f.read()
        end = text.rindex(");")
        extra = (f',\n  {{ name = "{name}"; description = "added by the access test";'
                 f' clients = 1; duration = 1.0; }}\n')
        self.write_config(text[:end].rstrip() + extra + ");\n")

    def run_path(self, run_id):
        return f"{PATH}/run/{run_id}"


class PolicyBus(AccessCase):
    """The system bus's policy with the shipped org.wsbench1.conf."""

    BUS_TEMPLATE = SYSTEM_LIKE

    def test_only_the_daemon_user_may_own_the_name(self):
        for user in (self.users.other, self.users.member, None):
            p = self.call(user, "/org/freedesktop/DBus", "org.freedesktop.DBus.RequestName",
                          f"string:{BUS_NAME}", "uint32:4", dest="org.freedesktop.DBus")
            self.assert_refused(p, BUS_DENIED)

    def test_everyone_may_read(self):
        run_id = self.start(*SHORT)
        self.wait(run_id)
        other = self.users.other
        self.assertIn("single", [s["name"] for s in self.ctl_json("list-scenarios", user=other)])
        self.assertIn("c-lws", [s["name"] for s in self.ctl_json("list-servers", user=other)])
        self.assertIn(run_id, [r["id"] for r in self.ctl_json("runs", user=other)])
        self.assertIn("active_run", self.ctl_json("status", user=other))
        st = self.ctl_json("status", run_id, user=other)
        self.assertEqual((st["State"], st["RequestedBy"]), ("finished", "root"))
        rep = self.ctl_json("report", run_id, user=other)
        self.assertEqual(rep["metadata"]["id"], run_id)
        # Properties one by one, and introspection.
        p = self.call(other, self.run_path(run_id), "org.freedesktop.DBus.Properties.Get",
                      f"string:{RUN}", "string:State")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('"finished"', p.stdout)
        p = self.call(other, PATH, "org.freedesktop.DBus.Properties.Get",
                      f"string:{MANAGER}", "string:Version")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.call(other, PATH, "org.freedesktop.DBus.Introspectable.Introspect")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(MANAGER, p.stdout)

    def test_the_bus_refuses_the_unprivileged_and_nothing_changes(self):
        other = self.users.other
        run_id = self.start(*LONG)
        try:
            self.wait_state(run_id, {"running"})
            self.with_extra_scenario("added-unprivileged")
            before = self.snapshot()
            p = self.ctl("start", "single", *SHORT, user=other, check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("Rejected send message", p.stderr)  # the bus, not the daemon
            self.assertIn('member="StartRun"', p.stderr)
            for argv in (["reload"], ["cancel", run_id]):
                p = self.ctl(*argv, user=other, check=False)
                self.assertEqual(p.returncode, 1, argv)
                self.assertIn("Rejected send message", p.stderr)
            self.assert_refused(self.call(other, PATH, f"{MANAGER}.Reload"), BUS_DENIED)
            self.assert_refused(self.call(other, PATH, f"{MANAGER}.CancelRun", f"string:{run_id}"),
                                BUS_DENIED)
            self.assert_refused(self.call(other, self.run_path(run_id), f"{RUN}.Cancel"),
                                BUS_DENIED)
            self.assert_refused(self.call(other, PATH, f"{MANAGER}.StartCompare",
                                          "string:single", "array:string:c-lws",
                                          "dict:string:string:", "dict:string:string:"),
                                BUS_DENIED)
            self.assert_refused(self.call(other, PATH, f"{MANAGER}.CancelCompare",
                                          f"string:{run_id}"), BUS_DENIED)
            # Reading a compare is open: the daemon answers, it has no such one.
            self.assert_refused(self.call(other, PATH, f"{MANAGER}.GetCompare",
                                          f"string:{run_id}"), "org.wsbench1.Error.NotFound")
            self.assertEqual(self.snapshot(), before)
            self.assertEqual(self.ctl_json("status", run_id)["State"], "running")
            self.assertNotIn("added-unprivileged",
                             [s["name"] for s in self.ctl_json("list-scenarios")])
        finally:
            self.cancel_all()

    def test_a_member_may_start_cancel_and_reload(self):
        member = self.users.member
        run_id = self.start(*SHORT, user=member)
        self.assertEqual(self.wait(run_id)["RequestedBy"], member)
        reports = []
        for r in glob.glob(os.path.join(self.reports, "*.json")):
            with open(r) as f:
                reports.append(json.load(f)["metadata"]["id"])
        self.assertIn(run_id, reports)
        run_id = self.start(*LONG, user=member)
        self.wait_state(run_id, {"running"})
        self.ctl("cancel", run_id, user=member)
        self.wait(run_id, "cancelled")
        self.with_extra_scenario("added-by-member")
        self.ctl("reload", user=member)
        self.assertIn("added-by-member",
                      [s["name"] for s in self.ctl_json("list-scenarios", user=member)])

    def test_root_may_start_and_cancel_a_members_run(self):
        run_id = self.start(*LONG, user=self.users.member)
        self.wait_state(run_id, {"running"})
        p = self.call(None, self.run_path(run_id), f"{RUN}.Cancel")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.wait(run_id, "cancelled")
        run_id = self.start(*SHORT)
        self.wait(run_id)


class OpenBus(AccessCase):
    """A bus that lets everyone call everything: wsbenchd's own check, with
    the daemon running as `wsbench` (test_daemon.py runs it as root)."""

    BUS_TEMPLATE = None  # tests/dbus/bus-users.conf

    def test_the_daemon_refuses_the_unprivileged_and_nothing_changes(self):
        other = self.users.other
        run_id = self.start(*LONG)
        try:
            self.wait_state(run_id, {"running"})
            self.with_extra_scenario("added-unprivileged")
            before = self.snapshot()
            p = self.ctl("start", "single", *SHORT, user=other, check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("Only root and members of group wsbench may", p.stderr)
            self.assert_refused(self.call(other, PATH, f"{MANAGER}.Reload"), DAEMON_DENIED)
            self.assert_refused(self.call(other, PATH, f"{MANAGER}.CancelRun", f"string:{run_id}"),
                                DAEMON_DENIED)
            self.assert_refused(self.call(other, self.run_path(run_id), f"{RUN}.Cancel"),
                                DAEMON_DENIED)
            self.assertEqual(self.snapshot(), before)
            self.assertEqual(self.ctl_json("status", run_id)["State"], "running")
        finally:
            self.cancel_all()

    def test_a_member_and_root_may_start(self):
        run_id = self.start(*SHORT, user=self.users.member)
        self.assertEqual(self.wait(run_id)["RequestedBy"], self.users.member)
        run_id = self.start(*SHORT)
        self.assertEqual(self.wait(run_id)["RequestedBy"], "root")


if __name__ == "__main__":
    unittest.main(verbosity=2)
