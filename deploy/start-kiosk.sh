#!/usr/bin/env bash
# Start the Market 4.0 POS kiosk on the stall's touch screen: wait (with a deadline) until the stall
# answers, start the on-screen keyboard (and, on X11, the Vietnamese Telex input method), then
# Chromium in kiosk mode. Run by the session's autostart entry (deploy/kiosk.desktop).
#
# deploy/install-kiosk.sh installs this file as /opt/market-pos/deploy/start-kiosk.sh, the path
# that deploy/kiosk.desktop names. Why this keyboard, and how to type Vietnamese: docs/KIOSK.md.
#
# Settings (environment variables, all optional):
#   MARKET_POS_KIOSK_URL           page to open                    (http://127.0.0.1:8080/)
#   MARKET_POS_KIOSK_CHECK_URL     page polled until it answers    (<URL>unlock)
#   MARKET_POS_KIOSK_WAIT_SECONDS  give up (exit 1) after this     (300)
#   MARKET_POS_KIOSK_MODE          auto | x11 | wayland            (auto: wayland when WAYLAND_DISPLAY is set)
#   MARKET_POS_KIOSK_KEYBOARD      on-screen keyboard program, or "none"
#                                  (x11: onboard; wayland: squeekboard, started only if the session has not)
#   MARKET_POS_KIOSK_IM            input method daemon on x11, or "none" (fcitx5, with fcitx5-unikey: Telex)
#   MARKET_POS_KIOSK_BROWSER       browser program                 (chromium, else chromium-browser)
#   MARKET_POS_KIOSK_EXTRA_FLAGS   more browser flags, split on spaces
set -euo pipefail

log() { printf 'start-kiosk: %s\n' "$*" >&2; }

url=${MARKET_POS_KIOSK_URL:-http://127.0.0.1:8080/}
check_url=${MARKET_POS_KIOSK_CHECK_URL:-${url%/}/unlock}
wait_seconds=${MARKET_POS_KIOSK_WAIT_SECONDS:-300}
mode=${MARKET_POS_KIOSK_MODE:-auto}

if [[ ! $wait_seconds =~ ^[0-9]+$ ]]; then
  log "MARKET_POS_KIOSK_WAIT_SECONDS must be a whole number of seconds, not '$wait_seconds'"
  exit 2
fi
case $mode in
  auto) if [[ -n ${WAYLAND_DISPLAY:-} ]]; then mode=wayland; else mode=x11; fi ;;
  x11|wayland) ;;
  *) log "MARKET_POS_KIOSK_MODE must be auto, x11 or wayland, not '$mode'"; exit 2 ;;
esac

browser=${MARKET_POS_KIOSK_BROWSER:-}
if [[ -z $browser ]]; then
  for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
  done
fi
if [[ -z $browser ]] || ! command -v "$browser" >/dev/null 2>&1; then
  log "no browser found (install chromium: sudo bash deploy/install-kiosk.sh)"
  exit 1
fi
if ! command -v curl >/dev/null 2>&1; then
  log "curl is missing (sudo apt-get install curl)"
  exit 1
fi

# 1. The stall: market-pos.service starts it at boot; the session may come up first.
deadline=$((SECONDS + wait_seconds))
until curl -fsS -o /dev/null --connect-timeout 2 --max-time 3 "$check_url" 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    log "the stall did not answer at $check_url within ${wait_seconds} s; giving up"
    log "check it with: systemctl status market-pos; journalctl -u market-pos"
    exit 1
  fi
  sleep 1
done

# Is a program of this name already running for this user (the session may have started it)?
# Zombies (a keyboard that exited but was not reaped yet) do not count.
running() { pgrep -u "$(id -u)" -r D,R,S,T -x "$(basename -- "$1")" >/dev/null 2>&1; }

# Start a program in the background, detached from this script (which becomes the browser).
spawn() { ( "$@" </dev/null >/dev/null 2>&1 & ); }

# 2. The keyboard, and on X11 the input method that turns Telex into Vietnamese.
flags=(
  --kiosk --kiosk-printing --noerrdialogs --disable-infobars --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --overscroll-history-navigation=0 --check-for-update-interval=31536000
  --lang=vi  # the browser's own words and formats in Vietnamese too
)

if [[ $mode == x11 ]]; then
  keyboard=${MARKET_POS_KIOSK_KEYBOARD:-onboard}
  im=${MARKET_POS_KIOSK_IM:-fcitx5}

  if [[ $im != none ]]; then
    # Chromium (GTK) hands every key to fcitx5 through its GTK input-method module.
    export GTK_IM_MODULE=fcitx QT_IM_MODULE=fcitx XMODIFIERS=@im=fcitx
    if ! command -v "$im" >/dev/null 2>&1; then
      log "$im is not installed: no Vietnamese Telex typing (sudo bash deploy/install-kiosk.sh)"
    elif ! running "$im"; then
      "$im" -d >/dev/null 2>&1 || log "$im did not start"
    fi
  fi

  if [[ $keyboard != none ]]; then
    if ! command -v "$keyboard" >/dev/null 2>&1; then
      log "$keyboard is not installed: no on-screen keyboard (sudo bash deploy/install-kiosk.sh)"
    elif ! running "$keyboard"; then
      if [[ $(basename -- "$keyboard") == onboard ]] && command -v gsettings >/dev/null 2>&1; then
        # Show the keyboard when a text field gets the focus, docked at the bottom, above the
        # full-screen browser. Onboard learns about the focus through AT-SPI, which Chromium
        # only feeds when --force-renderer-accessibility is given (below).
        gsettings set org.onboard.auto-show enabled true >/dev/null 2>&1 || true
        gsettings set org.onboard.window docking-enabled true >/dev/null 2>&1 || true
        gsettings set org.onboard.window docking-edge bottom >/dev/null 2>&1 || true
        gsettings set org.onboard.window force-to-top true >/dev/null 2>&1 || true
      fi
      spawn "$keyboard"
    fi
  fi

  flags+=(--ozone-platform=x11 --force-renderer-accessibility)
else
  # Wayland (labwc or wayfire on Raspberry Pi OS): the compositor shows the system's keyboard
  # (squeekboard) when a text field asks for it through text-input-v3, which Chromium speaks
  # only with these flags. Squeekboard has no Vietnamese layout: see docs/KIOSK.md.
  keyboard=${MARKET_POS_KIOSK_KEYBOARD:-squeekboard}
  if [[ $keyboard != none ]] && command -v "$keyboard" >/dev/null 2>&1 && ! running "$keyboard"; then
    spawn "$keyboard"
  fi
  flags+=(--ozone-platform=wayland --enable-wayland-ime --wayland-text-input-version=3)
fi

extra=()
if [[ -n ${MARKET_POS_KIOSK_EXTRA_FLAGS:-} ]]; then
  read -r -a extra <<<"$MARKET_POS_KIOSK_EXTRA_FLAGS"
fi

# 3. The browser replaces this script, so the autostart entry's process is the kiosk itself.
exec "$browser" "${flags[@]}" "${extra[@]}" "$url"
