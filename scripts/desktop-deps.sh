#!/usr/bin/env bash
# Install the X11 desktop the end-to-end tests run on (Xvfb, a tray host, a notification
# daemon, xdotool, xclip) and the headers PyGObject builds against. Debian/Ubuntu, root or sudo.
# Does nothing when every package is already there.
set -euo pipefail
packages=(xvfb xdotool xclip trayer imagemagick dbus dbus-x11 dunst libnotify-bin
          gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 libgirepository1.0-dev libcairo2-dev
          pkg-config python3-tk tk-dev desktop-file-utils)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
