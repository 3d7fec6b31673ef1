#!/usr/bin/env bash
# System packages for the tray agent on Linux/X11, and with --test for the end-to-end tests
# (Xvfb, a window manager, a tray host, a notification daemon, xdotool, xclip). Debian/Ubuntu; root or sudo.
# Does nothing when every package is already there.
set -euo pipefail
packages=(xclip python3-tk gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 libgirepository1.0-dev
          libcairo2-dev pkg-config)
if [ "${1:-}" = "--test" ]; then
    packages+=(xvfb xdotool x11-utils xterm trayer openbox imagemagick dbus dbus-x11 dunst libnotify-bin desktop-file-utils)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
