# Sourced by setup.sh and run.sh: where the Wine prefix and the Windows Python live, and how to call it.
work=${PHITRAY_WINE_DIR:-$repo/.cache/wine}
export WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export PHITRAY_WINE_PYTHON_DIR="$work/python311"
# Trap 1: CPython under Wine aborts when a standard stream is a regular file; pipes work.
# The host's pip settings name Linux paths that the Windows pip would misread: left out.
winpy() {
    env -u PIP_FIND_LINKS -u PIP_CERT -u PIP_CONSTRAINT PIP_CONFIG_FILE=NUL \
        wine "$PHITRAY_WINE_PYTHON_DIR/python.exe" "$@" </dev/null 2>&1 | cat
    return "${PIPESTATUS[0]}"
}

# Trap 4: the wineserver and Wine's services, started once with /dev/null stdio, so they never
# hold a later python.exe's pipe open. (`-p600`, attached; it exits 2 when one already runs.)
wine_start() {
    wineserver -p600 </dev/null >/dev/null 2>&1 || true
    wine "$PHITRAY_WINE_PYTHON_DIR/python.exe" -c "pass" </dev/null >/dev/null 2>&1 || true
}

# A prefix made from nothing; trap 3: no crash dialog, a crash exits at once.
wine_new_prefix() {
    wineboot -i </dev/null >/dev/null 2>&1
    wine reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f </dev/null >/dev/null 2>&1
}
