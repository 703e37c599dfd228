# Sourced (bash) by scripts/setup and servers/build-server: decides where the
# reference servers' Go modules and crates come from.
#
# On a machine that reaches the Go module proxy, the usual registries serve
# them. On one that does not (our lab machines and CI reach Debian, NuGet and
# npm only), they come from the offline mirror beside the project,
# ../shared/mirror, which holds exactly what go.sum and Cargo.lock pin: its
# env.sh points GOPROXY and a private CARGO_HOME at it. The decision is made
# once per environment (WSBENCH_MIRROR is exported), so a build started from
# scripts/test does not probe the network again for every server.
#
#   WSBENCH_MIRROR=DIR   use the mirror in DIR, without probing
#   WSBENCH_MIRROR=none  use the registries, without probing

wsbench_use_registries() {
	local root mirror
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	mirror=${WSBENCH_MIRROR:-}
	if [ -z "$mirror" ]; then
		mirror=none
		# A machine without internet refuses at once (no DNS); one behind a
		# firewall that drops packets costs the timeout.
		if [ -f "$root/../shared/mirror/env.sh" ] &&
			! timeout 5 bash -c 'exec 3<>/dev/tcp/proxy.golang.org/443' 2>/dev/null; then
			mirror=$(cd "$root/../shared/mirror" && pwd)
			echo "wsbench: proxy.golang.org is unreachable; Go modules and crates come from $mirror" >&2
		fi
	fi
	export WSBENCH_MIRROR=$mirror
	if [ "$mirror" != none ]; then
		if [ ! -f "$mirror/env.sh" ]; then
			echo "wsbench: WSBENCH_MIRROR=$mirror has no env.sh" >&2
			return 1
		fi
		# shellcheck disable=SC1091
		. "$mirror/env.sh"
	fi
}
