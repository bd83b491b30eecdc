#!/usr/bin/env bash
# Install the Market 4.0 POS kiosk on Raspberry Pi OS (Bookworm) or Debian, as root:
#
#     sudo bash deploy/install-kiosk.sh
#
# - apt: chromium, curl, the on-screen keyboard onboard (X11) and the input method fcitx5 with
#   fcitx5-unikey, which turns Telex typing on onboard's Latin keys into Vietnamese;
# - the stall's systemd unit (deploy/market-pos.service, for the kiosk user) enabled and started;
# - /opt/market-pos/deploy/start-kiosk.sh and the user's autostart entry (deploy/kiosk.desktop),
#   which start the keyboard, the input method and Chromium with the desktop session;
# - onboard's defaults (shown on text fields, docked at the bottom) and a fcitx5 profile that
#   types Vietnamese (Telex) from the start (both rewritten on every run: the kiosk owns them);
# - on Raspberry Pi OS, the X11 desktop session (raspi-config): onboard works only under X11.
#   A reboot is needed after that switch.
#
# Running it again changes nothing more. Why these programs: docs/KIOSK.md.
#
# Settings (environment variables, all optional):
#   MARKET_POS_KIOSK_USER     the desktop user who runs the stall and the kiosk ($SUDO_USER, else pi)
#   MARKET_POS_KIOSK_X11      1: switch Raspberry Pi OS to the X11 session (default); 0: leave it
#   MARKET_POS_KIOSK_NO_APT   1: install no packages
#   MARKET_POS_KIOSK_DESTDIR  write every file under this folder instead of / and touch nothing
#                             else (no apt, systemctl or raspi-config): for tests and packaging
set -euo pipefail

say() { printf 'install-kiosk: %s\n' "$*"; }
die() { printf 'install-kiosk: %s\n' "$*" >&2; exit 1; }

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
destdir=${MARKET_POS_KIOSK_DESTDIR:-}
destdir=${destdir%/}
switch_x11=${MARKET_POS_KIOSK_X11:-1}
no_apt=${MARKET_POS_KIOSK_NO_APT:-0}
[[ -n $destdir ]] && no_apt=1
install_dir=/opt/market-pos/deploy   # deploy/kiosk.desktop's Exec names this folder

[[ $(id -u) -eq 0 ]] || die "run as root: sudo bash deploy/install-kiosk.sh"
for f in start-kiosk.sh kiosk.desktop market-pos.service; do
  [[ -f $here/$f ]] || die "missing $here/$f: run the copy in the repository's deploy/ folder"
done

user=${MARKET_POS_KIOSK_USER:-${SUDO_USER:-pi}}
entry=$(getent passwd "$user") || die "no user '$user': set MARKET_POS_KIOSK_USER to the desktop user"
home=$(cut -d: -f6 <<<"$entry")
group=$(id -gn "$user")
[[ $user != root ]] || say "warning: the kiosk and the stall will run as root; a desktop user is safer"

# --- 1. Packages -------------------------------------------------------------------------------
if [[ $no_apt != 1 ]]; then
  packages=(
    curl
    onboard onboard-data at-spi2-core gir1.2-atspi-2.0
    fcitx5 fcitx5-unikey fcitx5-frontend-gtk3 fcitx5-frontend-gtk4
    fonts-dejavu-core
  )
  if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    # Raspberry Pi OS has named its build chromium-browser; Debian's is chromium.
    if apt-cache policy chromium-browser 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      packages+=(chromium-browser)
    else
      packages+=(chromium)
    fi
  fi
  say "installing: ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

# Write a file only when its content differs; print what changed.
changed=()
put() { # put MODE OWNER:GROUP PATH  (content on stdin)
  local mode=$1 owner=$2 path=$destdir$3 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    chmod "$mode" "$path"
    return 0
  fi
  install -D -m "$mode" "$tmp" "$path"
  rm -f "$tmp"
  chown "$owner" "$path"
  changed+=("$3")
}

# Make the user's folders (owned by the user) that lead to a file in their home.
user_dirs() {
  local dir
  [[ -d $destdir$home ]] || install -d -m 755 -o "$user" -g "$group" "$destdir$home"
  for dir in "$@"; do
    [[ -d $destdir$home/$dir ]] || install -d -m 755 -o "$user" -g "$group" "$destdir$home/$dir"
  done
}

# --- 2. The kiosk script and the autostart entry -------------------------------------------------
put 755 root:root "$install_dir/start-kiosk.sh" <"$here/start-kiosk.sh"
user_dirs .config .config/autostart
put 644 "$user:$group" "$home/.config/autostart/kiosk.desktop" <"$here/kiosk.desktop"

# --- 3. The stall's service, for this user -------------------------------------------------------
unit=/etc/systemd/system/market-pos.service
put 644 root:root "$unit" < <(sed -e "s|^User=pi\$|User=$user|" -e "s|/home/pi/|$home/|g" \
  "$here/market-pos.service")
if [[ ! -x $destdir$home/market-pos/.venv/bin/market-pos ]]; then
  say "note: $home/market-pos/.venv/bin/market-pos is missing; install the stall first (README.md)"
fi

# --- 4. Onboard's defaults (read once per user, at onboard's first start) -----------------------
put 644 root:root /etc/onboard/onboard-defaults.conf <<'EOF'
# Market 4.0 POS kiosk (deploy/install-kiosk.sh): onboard's defaults for a new user.
# start-kiosk.sh sets the auto-show and docking keys again at every start.
[main]
layout=Compact
show-status-icon=False
start-minimized=False

[window]
docking-enabled=True
docking-edge=bottom
force-to-top=True

[auto-show]
enabled=True

[typing-assistance.word-suggestions]
enabled=False
EOF

# --- 5. fcitx5: Unikey (Telex, Unicode output) active in every text field from the start ---------
user_dirs .config .config/fcitx5
put 644 "$user:$group" "$home/.config/fcitx5/profile" <<'EOF'
[Groups/0]
Name=Default
Default Layout=us
DefaultIM=unikey

[Groups/0/Items/0]
Name=keyboard-us
Layout=

[Groups/0/Items/1]
Name=unikey
Layout=

[GroupOrder]
0=Default
EOF
put 644 "$user:$group" "$home/.config/fcitx5/config" <<'EOF'
[Behavior]
ActiveByDefault=True
EOF
# fcitx5-unikey's own defaults are what a stall needs: Telex, Unicode output, spell check, and
# "restore keys with invalid words" (an English word typed with Telex keys comes back as typed).

if ((${#changed[@]})); then
  say "wrote: ${changed[*]}"
else
  say "files already up to date"
fi
if [[ -n $destdir ]]; then
  say "MARKET_POS_KIOSK_DESTDIR is set: no service, session or reboot changes made"
  exit 0
fi

# --- 6. Start the stall now and at every boot ----------------------------------------------------
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  systemctl enable --now market-pos.service
  if [[ " ${changed[*]} " == *" $unit "* ]]; then
    systemctl try-restart market-pos.service
  fi
else
  say "systemd is not running here: enable market-pos.service by hand on the stall"
fi

# --- 7. The X11 session, which onboard needs ----------------------------------------------------
if [[ $switch_x11 == 1 ]] && command -v raspi-config >/dev/null 2>&1; then
  if raspi-config nonint do_wayland W1; then
    say "desktop session set to X11 (raspi-config); reboot to start the kiosk: sudo reboot"
  else
    say "warning: raspi-config could not switch to X11; choose X11 in raspi-config > Advanced Options"
  fi
else
  say "onboard and the Telex input method need an X11 desktop session (docs/KIOSK.md);"
  say "under Wayland the kiosk uses the system's own keyboard, which types no Vietnamese"
fi
say "done"
