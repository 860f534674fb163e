# Sourced by deploy/base-image.sh and the test service scripts: the root
# filesystem of a minimal local base image (no registry needed).
# busybox_image_tar: writes to stdout a tar of a root filesystem holding
# Debian's busybox-static with a symlink per applet and an /etc/passwd.
busybox_image_tar() {
    local root
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/tmp" "$root/etc"
    cp /bin/busybox "$root/bin/busybox"
    for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
    tar -C "$root" -c .
    rm -rf "$root"
}
