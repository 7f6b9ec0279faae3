#!/bin/sh
# Usage: pod.sh ROOT UID:GID [VOLUME=[SIZE]...] -- COMMAND [ARG...]
#
# Runs COMMAND as a container runtime runs a container whose securityContext
# says readOnlyRootFilesystem, runAsUser/runAsGroup, allowPrivilegeEscalation
# false and drops every capability:
#   - ROOT (the image: COMMAND and every mount point already in it) becomes
#     the process's root directory, mounted read-only;
#   - each VOLUME, a path inside ROOT, is an empty tmpfs writable by anyone
#     (an emptyDir), at most SIZE bytes when given (its sizeLimit);
#   - /proc and /dev/null are mounted, as in every container;
#   - COMMAND runs as UID:GID with no supplementary groups and no_new_privs;
#     a non-root user holds no capabilities.
# Every step execs the next: COMMAND keeps this script's process ID.
#
# Run it in a mount namespace of its own, so that no mount reaches the host
# and all of them go with the process:
#   unshare --mount --propagation private -- /bin/sh pod.sh ...
set -eu
root=$1 ids=$2
shift 2

mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount --bind /dev/null "$root/dev/null"
while [ "$1" != -- ]; do
	path=${1%%=*} size=${1#*=}
	mount -t tmpfs -o "mode=0777${size:+,size=$size}" tmpfs "$root$path"
	shift
done
shift

exec setpriv --no-new-privs \
	unshare --root="$root" --setgid="${ids#*:}" --setuid="${ids%%:*}" -- "$@"
