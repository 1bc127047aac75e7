# The reaper of a watch without a fence (no --leader-elect): reaper.py's contract for "+PGID", "-PGID" and "exit"
# lines, in POSIX sh. Run as `/bin/sh reaper.sh DIR` (hook.Reaper, fencing=False). A shell starts in about a
# millisecond of CPU; the Python reaper's interpreter took 8-17 ms of every `kates watch --exec` (bench B2).
#
# - End of input without "exit" means kates died: every group still listed is SIGKILLed, DIR is removed (only a
#   kates-watch-* directory), and the reaper exits. After "exit" it exits without touching anything.
# - It never signals a group it was not told about, nor one kates said has ended; a group is listed once, and is
#   what reaper.py's _group accepts (never 0 or 1).
# - kates starts it with a fixed environment (hook.Reaper): exported shell functions and options cannot reach it.
# - "until" lines (the fence) and any other line are ignored: a watch that fences runs reaper.py.
# - SIGINT, SIGTERM, SIGHUP and SIGPIPE are ignored: only the end of kates ends the reaper.
trap '' INT TERM HUP PIPE
groups=' '
while read -r line; do
    case $line in
        exit) exit 0 ;;
        [+-]*) ;;
        *) continue ;;
    esac
    g=${line#?}
    # a group as reaper.py's _group accepts it: decimal, no leading zero, from 2 to 2**31 - 1 (never 0 or 1)
    case $g in
        '' | 0* | 1 | *[!0-9]* | ???????????*) continue ;;
    esac
    [ "$g" -le 2147483647 ] || continue
    case $line in
        +*) case $groups in *" $g "*) ;; *) groups="$groups$g " ;; esac ;;
        *) case $groups in *" $g "*) groups="${groups%%" $g "*} ${groups#*" $g "}" ;; esac ;;
    esac
done
for g in $groups; do
    kill -s KILL -- "-$g" 2>/dev/null
done
case ${1##*/} in
    kates-watch-*) rm -rf -- "$1" ;;
esac
exit 0
