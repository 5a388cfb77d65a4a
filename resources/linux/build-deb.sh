#!/bin/sh
# Pack the one-folder app built from build.spec into a Debian package:
#   /opt/ser-studio/                 the app (read-only; it writes only to the user's folders)
#   /usr/bin/ser-studio              launcher (symlink)
#   /usr/share/applications/ser-studio.desktop, /usr/share/icons/hicolor/scalable/apps/ser-studio.svg
# Usage: build-deb.sh APP_DIR VERSION OUT.deb      (called by `make dist`)
set -eu
app_dir=$1
version=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
         "$root/usr/share/icons/hicolor/scalable/apps"
cp -a "$app_dir" "$root/opt/ser-studio"
ln -s /opt/ser-studio/ser-studio "$root/usr/bin/ser-studio"
install -m 644 "$here/ser-studio.desktop" "$root/usr/share/applications/ser-studio.desktop"
install -m 644 "$here/../icons/ser-studio.svg" "$root/usr/share/icons/hicolor/scalable/apps/ser-studio.svg"
# files readable by all, nothing writable but by root
chmod -R u+rwX,go+rX,go-w "$root/opt/ser-studio"

size_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: ser-studio
Version: $version
Section: sound
Priority: optional
Architecture: amd64
Maintainer: SER Studio developers <ser-studio@localhost>
Installed-Size: $size_kb
Depends: libc6 (>= 2.31), libgl1, libegl1, libfontconfig1, libxkbcommon0, libdbus-1-3, libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0, libxkbcommon-x11-0
Recommends: libpulse0
Description: offline speech emotion recognition for reviewing recordings
 SER Studio labels speech recordings with one of eight emotions (neutral, calm,
 happy, sad, angry, fearful, disgust, surprised) using a CNN-LSTM model, shows
 where in a recording each emotion occurs and how sure the model is, and can
 retrain the model from a local copy of the RAVDESS dataset. It works offline:
 nothing is sent anywhere. Playback needs libpulse0.
EOF
# Refresh the menu and icon caches where the desktop has them (no error where it does not).
for script in postinst postrm; do
    cat > "$root/DEBIAN/$script" <<'EOF'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
exit 0
EOF
    chmod 755 "$root/DEBIAN/$script"
done

# zstd at its default level: packing 1.6 GB with xz or zstd -19 takes many minutes on 2 cores (BENCHMARKS.md)
dpkg-deb --root-owner-group -Zzstd --build "$root" "$out" >/dev/null
echo "$out: $(du -h "$out" | cut -f1)"
